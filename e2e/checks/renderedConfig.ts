/**
 * check-rendered-config: the ConfigMaps the charts rendered (SPIRE server's `server.conf`, the
 * agent's `agent.conf`, Istio's mesh config) carry the domain's own trust domain. A misspelt value
 * in a chart without a schema leaves the chart's default there, and nothing else notices.
 */
import { Domain } from "../clusters/domains";
import { kubectlJson, List, Meta } from "../runner/kubectl";
import { check } from "../runner/phases";

/** The rendered file (a ConfigMap key) and how its trust domain reads. */
const renderedFiles = [
    ["server.conf", /"trust_domain":\s*"([^"]*)"/],
    ["agent.conf", /"trust_domain":\s*"([^"]*)"/],
    ["mesh", /^\s*trustDomain:\s*(\S+)/m],
] as const;

/**
 * Every ConfigMap holding one of the rendered files names the domain's trust domain.
 * @param domains the clusters to read
 * @param evidence the phase's: which ConfigMaps were read
 */
export async function checkRenderedConfig(domains: Domain[], evidence: string[]): Promise<void> {
    for (const domain of domains) {
        const maps = await kubectlJson<List<Meta & { data?: Record<string, string> }>>(domain, "get", "configmaps", "--all-namespaces");
        const seen: string[] = [];
        for (const [file, pattern] of renderedFiles) {
            const holders = maps.items.filter((map) => map.data?.[file] !== undefined);
            check(holders.length > 0, `${domain.name}: no ConfigMap with ${file}`);
            for (const map of holders) {
                const value = pattern.exec(map.data![file])?.[1]?.replace(/^"|"$/g, "");
                check(value === domain.trustDomain, `${domain.name}: ${map.metadata.namespace}/${map.metadata.name} ${file} has trust domain ${String(value)}, want ${domain.trustDomain}`);
                seen.push(`${map.metadata.namespace}/${map.metadata.name}[${file}]`);
            }
        }
        evidence.push(`${domain.name}: trust domain ${domain.trustDomain} in ${seen.join(", ")}`);
    }
}
