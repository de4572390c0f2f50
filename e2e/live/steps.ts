/**
 * The live SPIRE layer as a scenario's steps: `spireLiveSteps()` after the checks of an `up`
 * (run as a chain: each step needs the one before it), `liveStop` before the next engine operation.
 * The steps read what they need from the scenario's context: the deployed domains, what their
 * stacks export, and the roots the run generated.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Domain } from "../clusters/domains";
import { bin, cache, logs, work } from "../runner/paths";
import { Context, Step } from "../scenarios/context";
import { LiveDomainInput, LivePhase, LiveTimings, spireBinariesIn, spireLivePhases, stopLiveSpire } from "./phases";

/** A domain of the scenario in the live layer's plain terms, with what its stack exports for it now. */
async function liveInput(context: Context, domain: Domain): Promise<LiveDomainInput> {
    const exported = await context.exported(domain);
    if (typeof exported?.trustBundle !== "string" || typeof exported.bundleEndpointUrl !== "string") {
        throw new Error(`${domain.name}: its stack exports no trustBundle and bundleEndpointUrl`);
    }
    return {
        cluster: {
            name: domain.name,
            address: domain.address,
            kubeconfig: domain.kubeconfig,
            kubectl: bin("kube", "kubectl"),
            trustDomain: domain.trustDomain,
            workDir: path.join(work, "live", domain.name),
            logDir: path.join(logs, "live"),
        },
        rootPem: fs.readFileSync(path.join(domain.rootDir, "root.crt"), "utf8"),
        exported: { trustBundle: exported.trustBundle, bundleEndpointUrl: exported.bundleEndpointUrl },
    };
}

/**
 * The live phases (e2e/live/phases.ts) as steps over the scenario's current mesh; timings count
 * from `context.deployedAt` and land in `timings`.
 */
export function spireLiveSteps<C extends Context>(timings: LiveTimings = {}): Step<C>[] {
    const binaries = spireBinariesIn(path.join(cache, "bin"));
    let live: LivePhase[] | undefined;
    const names = spireLivePhases([], binaries, 0).map((phase) => phase.name);
    return names.map((name, index) => ({
        name,
        run: async (context, evidence) => {
            if (index === 0 || live === undefined) {
                const inputs = await Promise.all(context.mesh.map((domain) => liveInput(context, domain)));
                live = spireLivePhases(inputs, binaries, context.deployedAt ?? Date.now(), timings);
            }
            await live[index].run(evidence);
        },
    }));
}

/** Stops every live process and forwarder; before `destroy`, since they talk to the API servers. */
export const liveStop: Step = {
    name: "live-stop",
    run: async (_context, evidence) => {
        evidence.push(...(await stopLiveSpire()));
    },
};
