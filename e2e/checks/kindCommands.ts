/**
 * What the program's KindCluster commands did, read from the kind and docker stand-ins' call log
 * (e2e/standins/): `pulumi up` created one kind cluster per domain with the pinned node image and
 * read its kubeconfig and node address; `pulumi destroy` deleted each, and its control plane is
 * down, every port of its address free.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain } from "../clusters/domains";
import { cache } from "../runner/paths";
import { check } from "../runner/phases";
import { run } from "../runner/processes";
import { callsOf, clustersNamed, flagOf, readCalls } from "../standins/calls";

/**
 * After `up`: one `kind create cluster` per domain, with the image versions.ts pins, the config on
 * stdin and a kubeconfig file of its own; then each cluster's kubeconfig and node address read.
 * @param file the call log
 * @param mesh the domains of the stack
 * @param image the node image versions.ts pins
 * @param evidence the phase's
 */
export function checkKindCreated(file: string, mesh: Domain[], image: string, evidence: string[]): void {
    const calls = readCalls(file);
    const created = clustersNamed(calls, "create cluster");
    check(
        JSON.stringify([...created].sort()) === JSON.stringify(mesh.map((domain) => domain.name).sort()),
        `want one kind create cluster per domain (${mesh.map((domain) => domain.name).join(", ")}), the stand-in got: ${created.join(", ") || "none"}`,
    );
    for (const call of callsOf(calls, "kind create cluster")) {
        check(flagOf(call, "--image") === image, `kind create cluster --name ${flagOf(call, "--name")}: --image ${flagOf(call, "--image")}, want ${image}`);
        check(flagOf(call, "--config") === "-", `kind create cluster --name ${flagOf(call, "--name")}: the config not on stdin`);
    }
    for (const domain of mesh) {
        const kubeconfigReads = callsOf(calls, "kind get kubeconfig").filter((call) => flagOf(call, "--name") === domain.name);
        const addressReads = callsOf(calls, "docker inspect").filter((call) => call.args.at(-1) === `${domain.name}-control-plane`);
        check(kubeconfigReads.length > 0, `${domain.name}: the program never ran kind get kubeconfig for it`);
        check(addressReads.length > 0, `${domain.name}: the program never read its node address (docker inspect ${domain.name}-control-plane)`);
    }
    evidence.push(`kind create cluster ran for ${created.join(", ")} (--image ${image}, --config - on stdin as the stand-in checked); kubeconfig and node address read for each`);
    evidence.push(`stand-in calls: ${countByCommand(file)}`);
}

/**
 * After `destroy`: `kind delete cluster` ran for each domain after its create (if one ran), the stand-in lists
 * no cluster, and each control plane is down (no pid file, nothing listening on its address).
 * @param file the call log
 * @param stateDir the stand-ins' record of the clusters they created
 * @param mesh the domains of the stack
 * @param evidence the phase's
 */
export async function checkKindDeleted(file: string, stateDir: string, mesh: Domain[], evidence: string[]): Promise<void> {
    const calls = readCalls(file);
    const listening = (await run("ss", ["-Hltn"])).stdout;
    for (const domain of mesh) {
        const lastOf = (verb: string) => calls.map((call) => call.tool === "kind" && call.args[0] === verb && flagOf(call, "--name") === domain.name).lastIndexOf(true);
        const lastCreate = lastOf("create");
        // A cluster never created (an `up` that failed before) needs no delete; its control plane must be down all the same.
        if (lastCreate >= 0) check(lastOf("delete") > lastCreate, `${domain.name}: no kind delete cluster after its create (the stand-in got: ${clustersNamed(calls, "delete cluster").join(", ") || "no delete"})`);
        check(!fs.existsSync(path.join(stateDir, "clusters", domain.name)), `${domain.name}: the kind stand-in still lists the cluster`);
        check(!fs.existsSync(path.join(cache, "clusters", domain.name, "pids")), `${domain.name}: its control plane's processes are still recorded as running`);
        const held = listening.split("\n").filter((line) => line.includes(` ${domain.address}:`));
        check(held.length === 0, `${domain.name}: ports of ${domain.address} still taken: ${held.join("; ")}`);
    }
    const deleted = clustersNamed(calls, "delete cluster");
    evidence.push(`kind delete cluster ran for ${deleted.join(", ") || "no cluster"}; each control plane down, every port of ${mesh.map((domain) => domain.address).join(", ")} free`);
}

/** `command=count` for each stand-in command of the log, in first-call order. */
function countByCommand(file: string): string {
    const counts = new Map<string, number>();
    for (const call of readCalls(file)) {
        const words = call.args.filter((arg) => !arg.startsWith("-")).slice(0, call.tool === "docker" ? 1 : 2);
        const name = [call.tool, ...words].join(" ");
        counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return [...counts].map(([name, count]) => `${name}=${count}`).join(", ");
}
