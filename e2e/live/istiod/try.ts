/**
 * The live istiod layer on its own, for working on it: the shared phases for two domains, one
 * `up`, the istiod steps, then reader probes named in `E2E_READER_PROBES` (comma-separated:
 * `full`, or `no-RESOURCE[+RESOURCE]` for the reads of readerRbac.ts without those), teardown.
 * No destroy (teardown removes the clusters). `E2E_CAPTURE=DIR` keeps cluster-1's istiod
 * Deployment, pod and node and each istiod's debug endpoints there (what the unit tests' fixtures
 * were taken from). `E2E_PROGRAM=DIR` deploys a copy of the program there (under `.e2e-cache/`, so
 * that it resolves the repository's node_modules) instead of the repository's. `flock /tmp/e2e.lock npx tsx e2e/live/istiod/try.ts`
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { domains } from "../../clusters/domains";
import { teardown } from "../../clusters/lifecycle";
import { upTimed } from "../../engine/operations";
import { domainConfig } from "../../engine/stackConfig";
import { openStack, prepareWorkspace } from "../../engine/workspace";
import { bin, logs, root, work } from "../../runner/paths";
import { cancelOnSignals, exitCode, phase } from "../../runner/phases";
import { report } from "../../runner/report";
import { Context, runSteps } from "../../scenarios/context";
import { setup } from "../../scenarios/setup";
import { LiveIstiods } from "./phases";
import { kubectl } from "./kube";
import { remoteReads, without } from "./readerRbac";
import { istiodSteps } from "./steps";

async function main(): Promise<number> {
    const mesh = domains.slice(0, 2);
    const context: Context = { ...(await setup(mesh, "supplied")), clusters: mesh, mesh, exported: async () => undefined };
    let stack: Awaited<ReturnType<typeof openStack>> | undefined;
    const up = await phase("up", context.ready, async (evidence) => {
        context.workspace = await prepareWorkspace(process.env.E2E_PROGRAM ?? root, evidence);
        stack = await openStack("e2e-istiod", context.workspace);
        await stack.setAllConfig(domainConfig(mesh, context.repositories, context.roots), true);
        await upTimed(stack, "up", evidence);
        context.deployedAt = Date.now();
    });
    const capture = process.env.E2E_CAPTURE;
    if (capture !== undefined && up) {
        fs.mkdirSync(capture, { recursive: true });
        const kube = { kubectl: bin("kube", "kubectl"), kubeconfig: mesh[0].kubeconfig };
        fs.writeFileSync(path.join(capture, "deployment.json"), await kubectl(kube, ["-n", "istio-system", "get", "deployment", "istiod", "-o", "json"]));
        fs.writeFileSync(path.join(capture, "pods.json"), await kubectl(kube, ["-n", "istio-system", "get", "pods", "-l", "istio=pilot", "-o", "json"]));
        fs.writeFileSync(path.join(capture, "nodes.json"), await kubectl(kube, ["get", "nodes", "-o", "json"]));
        // The debug endpoints while the istiods run: after the checks, before istiod-stop.
        const stop = istiodSteps[istiodSteps.length - 1];
        await runSteps(istiodSteps.slice(0, -1), up, context);
        for (const name of ["clusterz", "registryz", "endpointShardz", "networkz", "mesh"]) {
            for (const domain of mesh) {
                const response = await fetch(`http://${domain.address}:18080/debug/${name}`).catch(() => undefined);
                if (response !== undefined) fs.writeFileSync(path.join(capture, `${domain.name}-${name}.json`), await response.text());
            }
        }
        await runSteps([stop], up, context);
    } else {
        await runSteps(istiodSteps, up, context);
    }
    const probes = (process.env.E2E_READER_PROBES ?? "").split(",").filter(Boolean);
    if (probes.length > 0) {
        const live = new LiveIstiods(
            mesh.map((domain) => ({ name: domain.name, address: domain.address, kube: { kubectl: bin("kube", "kubectl"), kubeconfig: domain.kubeconfig }, trustDomain: domain.trustDomain, domainRootPem: "" })),
            { binary: bin("istio", "pilot-discovery"), workDir: path.join(work, "istiod"), logDir: logs },
        );
        for (const probe of probes) {
            const reads = probe === "full" ? remoteReads : without(remoteReads, ...probe.replace(/^no-/, "").split("+"));
            await phase(`reader-probe-${probe}`, up, async (evidence) => {
                await live.probeReader(evidence, probe, reads);
            });
        }
    }
    await teardown();
    return exitCode();
}

cancelOnSignals();
main().then(
    (code) => {
        report(code, "report-istiod-try.json");
        process.exit(code);
    },
    (error: unknown) => {
        process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
        report(1, "report-istiod-try.json");
        process.exit(1);
    },
);
