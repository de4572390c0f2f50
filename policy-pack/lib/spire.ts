import { clusterOf, isKind, isReleaseOf, objectLabel, releaseLabel, releaseValues } from "./kubernetes";
import { PlainResource } from "./resource";
import { at, entriesAt, isRecord, itemsAt, Path, stringAt, Unknown } from "./values";

/** API group of the SPIRE controller manager's cluster-scoped CRs. */
export const spireGroup = "spire.spiffe.io";

/** Where the umbrella `spire` chart keeps the controller manager's settings. */
const controllerManagerPath: Path = ["spire-server", "controllerManager"];

/** A SPIRE installation: the `spire` chart's Release in one cluster. */
export interface SpireInstall {
    release: PlainResource;
    cluster: string | undefined;
    /** `global.spire.trustDomain`, or the server subchart's own setting when the global is empty. */
    trustDomain: string | Unknown | undefined;
    /**
     * The class the controller manager reconciles (`<release namespace>-<release name>` unless
     * overridden); undefined when the release name or namespace is not known.
     */
    className: string | undefined;
    /** Whether CRs without a className are reconciled too (`controllerManager.watchClassless`). */
    watchClassless: boolean;
}

export function isSpireRelease(resource: PlainResource): boolean {
    return isReleaseOf(resource, "spire");
}

export function spireInstallOf(release: PlainResource): SpireInstall {
    const values = releaseValues(release);
    const global = stringAt(values, ["global", "spire", "trustDomain"]);
    const trustDomain = global === undefined || global === "" ? stringAt(values, ["spire-server", "trustDomain"]) : global;
    const explicitClass = stringAt(values, [...controllerManagerPath, "className"]);
    const namespace = stringAt(release.props, ["namespace"]);
    const releaseName = stringAt(release.props, ["name"]);
    const override = stringAt(values, ["spire-server", "crNameOverride"]);
    const crName = typeof override === "string" && override !== "" ? override : releaseName;
    let className: string | undefined;
    if (typeof explicitClass === "string" && explicitClass !== "") className = explicitClass;
    else if (typeof namespace === "string" && namespace !== "" && typeof crName === "string" && crName !== "") {
        className = `${namespace}-${crName}`;
    }
    return {
        release,
        cluster: clusterOf(release),
        trustDomain,
        className,
        watchClassless: at(values, [...controllerManagerPath, "watchClassless"]) === true,
    };
}

export function spireInstallsOf(resources: PlainResource[]): SpireInstall[] {
    return resources.filter(isSpireRelease).map(spireInstallOf);
}

/** A ClusterFederatedTrustDomain, declared as a CR or through the SPIRE chart's values. */
export interface Federation {
    /** The resource to change: the CR, or the SPIRE Release that renders it. */
    source: PlainResource;
    label: string;
    cluster: string | undefined;
    trustDomain: unknown;
    profileType: unknown;
    endpointSpiffeId: unknown;
    bundleEndpointUrl: unknown;
    trustDomainBundle: unknown;
    /** The CR's spec.className; the chart sets it itself for the entries it renders. */
    className: unknown;
    chartManaged: boolean;
}

/** A ClusterSPIFFEID or ClusterStaticEntry, declared as a CR or through the SPIRE chart's values. */
export interface SpiffeIdEntry {
    source: PlainResource;
    label: string;
    cluster: string | undefined;
    federatesWith: unknown;
    className: unknown;
    chartManaged: boolean;
}

function enabledEntries(values: Record<string, unknown>, kind: string): [string, Record<string, unknown>][] {
    return entriesAt(values, [...controllerManagerPath, "identities", kind]).filter(
        (entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]) && entry[1].enabled !== false,
    );
}

function federationFromSpec(source: PlainResource, label: string, spec: unknown, className: unknown, chartManaged: boolean): Federation {
    return {
        source,
        label,
        cluster: clusterOf(source),
        trustDomain: at(spec, ["trustDomain"]),
        profileType: at(spec, ["bundleEndpointProfile", "type"]),
        endpointSpiffeId: at(spec, ["bundleEndpointProfile", "endpointSPIFFEID"]),
        bundleEndpointUrl: at(spec, ["bundleEndpointURL"]),
        trustDomainBundle: at(spec, ["trustDomainBundle"]),
        className,
        chartManaged,
    };
}

/** The federations a resource declares: a ClusterFederatedTrustDomain CR, or a SPIRE Release's entries. */
export function federationsOf(resource: PlainResource): Federation[] {
    if (isKind(resource, spireGroup, "ClusterFederatedTrustDomain")) {
        const spec = at(resource.props, ["spec"]);
        return [federationFromSpec(resource, objectLabel(resource), spec, at(spec, ["className"]), false)];
    }
    if (isSpireRelease(resource)) {
        return enabledEntries(releaseValues(resource), "clusterFederatedTrustDomains").map(([key, entry]) =>
            federationFromSpec(resource, `${releaseLabel(resource)} clusterFederatedTrustDomains.${key}`, entry, undefined, true),
        );
    }
    return [];
}

/** The SPIFFE ID entries a resource declares: ClusterSPIFFEID/ClusterStaticEntry CRs or chart entries. */
export function spiffeIdEntriesOf(resource: PlainResource): SpiffeIdEntry[] {
    if (isKind(resource, spireGroup, "ClusterSPIFFEID") || isKind(resource, spireGroup, "ClusterStaticEntry")) {
        const spec = at(resource.props, ["spec"]);
        return [
            {
                source: resource,
                label: objectLabel(resource),
                cluster: clusterOf(resource),
                federatesWith: at(spec, ["federatesWith"]),
                className: at(spec, ["className"]),
                chartManaged: false,
            },
        ];
    }
    if (isSpireRelease(resource)) {
        const values = releaseValues(resource);
        return ["clusterSPIFFEIDs", "clusterStaticEntries"].flatMap((kind) =>
            enabledEntries(values, kind).map(([key, entry]) => ({
                source: resource,
                label: `${releaseLabel(resource)} ${kind}.${key}`,
                cluster: clusterOf(resource),
                federatesWith: entry.federatesWith,
                className: undefined,
                chartManaged: true,
            })),
        );
    }
    return [];
}

/** The trust domain names in a `federatesWith` list (strings only; UNKNOWN and junk dropped). */
export function federatedDomains(federatesWith: unknown): string[] {
    return itemsAt(federatesWith, []).filter((item): item is string => typeof item === "string");
}
