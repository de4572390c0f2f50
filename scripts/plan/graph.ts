/** A declared resource as the plan sees it: enough to order a deploy. */
export interface PlanNode {
    urn: string;
    custom: boolean;
    provider: string;
    dependsOn: string[];
}

/**
 * The longest chain of resources a deploy must create one after another: each waits for its
 * dependencies (explicit or through inputs) and for its provider. Components are not steps of
 * their own, so only custom resources and providers count.
 */
export function longestDependencyChain(nodes: PlanNode[]): string[] {
    const byUrn = new Map(nodes.map((n) => [n.urn, n]));
    const memo = new Map<string, string[]>();
    const visiting = new Set<string>();
    const chainTo = (urn: string): string[] => {
        const cached = memo.get(urn);
        if (cached) return cached;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
        visiting.add(urn);
        const node = byUrn.get(urn);
        let best: string[] = [];
        if (node) {
            const predecessors = [...node.dependsOn, ...(node.provider ? [node.provider] : [])];
            for (const predecessor of predecessors) {
                if (!byUrn.has(predecessor)) continue;
                const chain = chainTo(predecessor);
                if (chain.length > best.length) best = chain;
            }
        }
        visiting.delete(urn);
        const result = node && node.custom ? [...best, urn] : best;
        memo.set(urn, result);
        return result;
    };
    let longest: string[] = [];
    for (const node of nodes) {
        const chain = chainTo(node.urn);
        if (chain.length > longest.length) longest = chain;
    }
    return longest;
}
