/**
 * Go duration strings as cert-manager accepts them (`1440h`, `90m`, `2h30m`), restricted to the
 * units that make sense for certificates.
 */
const durationPattern = /^(?:\d+(?:\.\d+)?(?:h|m|s))+$/;
const unitSeconds: Record<string, number> = { h: 3600, m: 60, s: 1 };

export function isDuration(value: string): boolean {
    return durationPattern.test(value) && durationSeconds(value) > 0;
}

/** Seconds in a duration string; throws on a malformed one. */
export function durationSeconds(value: string): number {
    if (!durationPattern.test(value)) {
        throw new Error(`not a duration: ${JSON.stringify(value)}`);
    }
    let total = 0;
    for (const match of value.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)) {
        total += Number(match[1]) * unitSeconds[match[2]];
    }
    return total;
}

export function durationHours(value: string): number {
    return durationSeconds(value) / 3600;
}
