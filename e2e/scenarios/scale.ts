/**
 * The scale scenario (issue 16, item 5): how `pulumi up` of a mesh from scratch grows with its
 * domains. In one run, on the same three clusters: two domains from scratch, destroyed; three,
 * destroyed; two again, destroyed; each a new stack with `removeCrdsOnDestroy` so that every
 * `up` starts from an empty cluster (checked). The report compares the three-domain `up` with the
 * mean of the two two-domain ones (target: at most 1.15 times), as a measurement: the phase states
 * whether the target was met and does not fail on it, since on a loaded machine the domains'
 * control planes share its cores.
 */
import { Stack } from "@pulumi/pulumi/automation";
import { checkNothingRemains, recordInstalledCrds } from "../checks/nothingRemains";
import { Domain, domains } from "../clusters/domains";
import { teardown } from "../clusters/lifecycle";
import { destroy, upTimed } from "../engine/operations";
import { domainConfig } from "../engine/stackConfig";
import { openStack, prepareWorkspace, Workspace } from "../engine/workspace";
import { root } from "../runner/paths";
import { exitCode, phase } from "../runner/phases";
import { setup } from "./setup";

/** The ratio the issue sets as the target: three domains' `up` within this many times two domains'. */
export const targetRatio = 1.15;

/**
 * The comparison the report states.
 * @param seconds the `up` durations by phase
 */
export function scaleVerdict(seconds: { two: number; three: number; twoAgain: number }): { ratio: number; met: boolean; text: string } {
    const two = (seconds.two + seconds.twoAgain) / 2;
    const ratio = seconds.three / two;
    const met = ratio <= targetRatio;
    return {
        ratio,
        met,
        text: `three domains ${seconds.three.toFixed(1)}s against two ${two.toFixed(1)}s (mean of ${seconds.two.toFixed(1)}s and ${seconds.twoAgain.toFixed(1)}s): ${ratio.toFixed(2)}x, target ${targetRatio}x ${met ? "met" : "MISSED"}`,
    };
}

/** Runs the scenario; its exit status. */
export async function scale(): Promise<number> {
    const context = await setup(domains, "generated");
    let workspace: Workspace | undefined;
    const stackReady = await phase("workspace", context.ready, async (evidence) => {
        workspace = await prepareWorkspace(root, evidence);
    });
    const seconds = { two: 0, three: 0, twoAgain: 0 };
    const rounds: [keyof typeof seconds, string, Domain[]][] = [
        ["two", "up-two", domains.slice(0, 2)],
        ["three", "up-three", domains],
        ["twoAgain", "up-two-again", domains.slice(0, 2)],
    ];
    let previous = stackReady;
    for (const [key, name, mesh] of rounds) {
        let stack: Stack | undefined;
        const up = await phase(name, previous, async (evidence) => {
            stack = await openStack(`e2e-scale-${name}`, workspace!);
            await stack.setAllConfig({ ...domainConfig(mesh, context.repositories, context.roots), removeCrdsOnDestroy: { value: "true" } }, true);
            const started = Date.now();
            await upTimed(stack, name, evidence);
            seconds[key] = (Date.now() - started) / 1000;
            evidence.unshift(`${mesh.length} domains from scratch: ${seconds[key].toFixed(1)}s`);
        });
        const destroyed = await phase(`destroy-${name}`, stack !== undefined, async (evidence) => {
            await recordInstalledCrds(mesh);
            await destroy(stack!, `destroy-${name}`, evidence);
        });
        previous = up && destroyed && (await phase(`check-empty-after-${name}`, destroyed, checkNothingRemains(() => false)));
    }
    await phase("compare", previous, async (evidence) => {
        evidence.push(scaleVerdict(seconds).text);
    });
    await teardown();
    return exitCode();
}
