import * as pulumi from "@pulumi/pulumi";
import { recorded } from "./stateRecord";

/**
 * A domain's trust domain as deployed, kept in the state (a Stash named `<domain>-trust-domain-record`)
 * so that a renamed trust domain is refused before anything changes. SPIRE's server refuses to
 * start when its datastore holds a registration entry of another trust domain (spire v1.15.2
 * `pkg/server/server.go:532-555`, `validateTrustDomain`, called at startup at :189), so a release
 * upgrade to a new name would wait out its 900 s timeout and leave SPIRE down.
 */

/** Name of the record of one domain's trust domain. */
export function trustDomainRecordName(domain: string): string {
    return `${domain}-trust-domain-record`;
}

/** The refusal for one domain whose trust domain changed since it was deployed, or undefined. */
export function trustDomainChangeProblem(args: { domain: string; index: number; deployed: string; wanted: string }): string | undefined {
    if (args.deployed === args.wanted) return undefined;
    return (
        `domains[${args.index}].trustDomain of domain ${args.domain} is "${args.wanted}", but the domain was deployed as "${args.deployed}". ` +
        `SPIRE's datastore holds registration entries of "${args.deployed}", and its server refuses to start with another trust domain ` +
        `(the release upgrade would time out and leave SPIRE down). Restore "${args.deployed}", or rename deliberately as ` +
        `"Renaming a trust domain" in the README describes: empty that SPIRE server's datastore, then ` +
        `pulumi up --replace the record ${trustDomainRecordName(args.domain)} (pulumi:index:Stash).`
    );
}

/**
 * Records each domain's trust domain on first deploy and refuses, with one error naming every
 * renamed domain, a run whose config renames one. Awaited before anything else is declared: only
 * the records themselves are registered before the refusal.
 */
export async function checkRecordedTrustDomains(domains: { name: string; trustDomain: string }[]): Promise<void> {
    const deployed = await Promise.all(domains.map((domain) => recorded(trustDomainRecordName(domain.name), domain.trustDomain)));
    const problems = domains
        .map((domain, index) => {
            const was = deployed[index];
            return typeof was === "string" ? trustDomainChangeProblem({ domain: domain.name, index, deployed: was, wanted: domain.trustDomain }) : undefined;
        })
        .filter((problem): problem is string => problem !== undefined);
    if (problems.length > 0) throw new pulumi.RunError(problems.join("\n"));
}
