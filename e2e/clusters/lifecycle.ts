/**
 * Local clusters up and down through `e2e/cluster.sh` (etcd, kube-apiserver, controllers, kwok,
 * cert-manager's controllers; e2e/README.md). Every cluster this run started is registered, so
 * that teardown brings each one down, also after a failure or Ctrl-C.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { kubectl } from "../runner/kubectl";
import { cache, logs, root } from "../runner/paths";
import { abort, check, phase, phases } from "../runner/phases";
import { logged, stopChildren } from "../runner/processes";
import { Domain } from "./domains";
import { recordBaseline } from "./snapshot";

/** Every cluster this run brought up (or tried to), in order. */
export const clustersUp: Domain[] = [];

/**
 * `cluster.sh up` for one domain, then its baseline recorded (clusters/snapshot.ts).
 * @param domain the cluster to start, on its own loopback address
 * @param evidence the clusters phase's: the API server's URL and the node
 */
export async function clusterUp(domain: Domain, evidence: string[]): Promise<void> {
    clustersUp.push(domain);
    await logged(`cluster-${domain.name}`, path.join(root, "e2e/cluster.sh"), ["up", domain.name, domain.address]);
    const nodes = await kubectl(domain, "get", "nodes", "-o", "name");
    evidence.push(`${domain.name}: https://${domain.address}:6443 up, ${nodes.trim()}`);
    await recordBaseline(domain);
}

/**
 * The teardown phase, always the last one: every cluster down (its logs kept when the run failed;
 * `cluster.sh down` checks every port of its address free), then every child process stopped.
 */
export async function teardown(): Promise<void> {
    const failed = phases.some((p) => p.status === "failed") || abort.signal.aborted;
    await phase("teardown", true, async (evidence) => {
        if (failed) {
            // cluster.sh removes a cluster's logs on its next `up`: keep this run's.
            for (const domain of clustersUp) {
                const from = path.join(cache, "clusters", domain.name, "logs");
                if (fs.existsSync(from)) fs.cpSync(from, path.join(logs, "clusters", domain.name), { recursive: true });
            }
        }
        const problems: string[] = [];
        for (const domain of [...clustersUp].reverse()) {
            await logged(`cluster-${domain.name}`, path.join(root, "e2e/cluster.sh"), ["down", domain.name]).then(
                () => evidence.push(`${domain.name}: down, every port of ${domain.address} free`),
                (error: Error) => problems.push(error.message),
            );
        }
        await stopChildren(evidence);
        check(problems.length === 0, problems.join("\n"));
    });
}
