import { UnknownValueError } from "@pulumi/policy";

/**
 * Stands for a value the engine does not know yet (a preview of a resource that does not exist).
 * Checks treat it as "cannot judge" rather than as missing, so a first preview does not fail on
 * values that only an update can know.
 */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

/**
 * The strings Pulumi uses on the wire for unknown values of each type (`@pulumi/pulumi`
 * runtime/rpc). The mock runtime hands them to the harness as plain strings.
 */
const unknownSentinels: ReadonlySet<string> = new Set([
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "030794c1-ac77-496b-92df-f27374a8bd58",
    "e48ece36-62e2-4504-bad9-02848725956a",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

export function isUnknown(value: unknown): value is Unknown {
    return value === UNKNOWN;
}

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isPlainContainer(value: object): boolean {
    if (Array.isArray(value)) return true;
    const prototype: unknown = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null;
}

/** Reads one property, turning the policy SDK's "unknown during preview" error into UNKNOWN. */
function readGuarded(container: Record<PathSegment, unknown>, key: PathSegment): unknown {
    try {
        return container[key];
    } catch (error) {
        if (error instanceof UnknownValueError) return UNKNOWN;
        throw error;
    }
}

/**
 * A plain copy of resource properties: the policy SDK's proxies (which throw on unknown values)
 * and the wire sentinels for unknowns both become UNKNOWN, everything else is copied as data.
 * Objects that are not plain data (assets, archives) are kept as they are.
 */
export function toPlain(value: unknown): unknown {
    if (typeof value === "string") return unknownSentinels.has(value) ? UNKNOWN : value;
    if (value === null || typeof value !== "object") return value;
    if (!isPlainContainer(value)) return value;
    const container = value as Record<PathSegment, unknown>;
    if (Array.isArray(value)) {
        return Array.from({ length: value.length }, (_, index) => toPlain(readGuarded(container, index)));
    }
    return Object.fromEntries(Object.keys(value).map((key) => [key, toPlain(readGuarded(container, key))]));
}

/** The value at `path`, UNKNOWN if an unknown value sits on the way, undefined if absent. */
export function at(value: unknown, path: Path): unknown {
    let current = value;
    for (const segment of path) {
        if (isUnknown(current)) return UNKNOWN;
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<PathSegment, unknown>)[segment];
    }
    return current;
}

/** A string value, UNKNOWN, or undefined for anything else (absent, number, object). */
export function stringAt(value: unknown, path: Path): string | Unknown | undefined {
    const found = at(value, path);
    return typeof found === "string" || isUnknown(found) ? found : undefined;
}

/** The entries of a map-like value; an empty list for anything else. */
export function entriesAt(value: unknown, path: Path): [string, unknown][] {
    const found = at(value, path);
    return isRecord(found) ? Object.entries(found) : [];
}

/** The items of a list value; an empty list for anything else. */
export function itemsAt(value: unknown, path: Path): unknown[] {
    const found = at(value, path);
    return Array.isArray(found) ? found : [];
}

/**
 * A path as the harness writes secret input paths (and as messages show it): keys joined by
 * dots, list indexes in brackets, e.g. `stringData.cluster-1` or `spec.containers[0].image`.
 */
export function formatPath(path: Path): string {
    let text = "";
    for (const segment of path) {
        if (typeof segment === "number") text += `[${segment}]`;
        else text += text === "" ? segment : `.${segment}`;
    }
    return text;
}

/** Every string in a value with its path (UNKNOWN leaves are skipped). */
export function stringLeaves(value: unknown, path: Path = []): { path: Path; value: string }[] {
    if (typeof value === "string") return [{ path, value }];
    if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, index]));
    if (isRecord(value)) return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
    return [];
}
