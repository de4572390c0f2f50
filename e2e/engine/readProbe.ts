/**
 * What the engine itself answers when a program reads another stack's outputs with the invoke the
 * program's probe uses (lib/peerStacks.ts). The program turns this answer into its warning and
 * does not print it; the probe logs the raw text.
 */
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { check } from "../runner/phases";
import { engineLog } from "./events";
import { projectName, pulumiEnv, stackReference, Workspace } from "./workspace";

/**
 * A throwaway stack of the same project, previewed (the invoke reads real outputs during preview
 * too), logs the rejection or the top-level output names; the stack is removed afterwards.
 * @param stackName the stack whose outputs are read
 * @param workspace the run's workspace: the same backend and passphrase as the stacks
 * @returns `resolved, outputs: [...]` or `rejected: ...`, as the engine answered
 */
export async function engineReadOf(stackName: string, workspace: Workspace): Promise<string> {
    const events: EngineEvent[] = [];
    const marker = "readStackOutputs:";
    const probe = await LocalWorkspace.createOrSelectStack(
        {
            stackName: "read-probe",
            projectName,
            program: async () => {
                try {
                    const result = (await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name: stackReference(stackName) })) as { outputs?: Record<string, unknown> };
                    pulumi.log.info(`${marker} resolved, outputs: [${Object.keys(result.outputs ?? {}).join(", ")}]`);
                } catch (error) {
                    const details = typeof error === "object" && error !== null && "details" in error ? ` details=${JSON.stringify((error as { details: unknown }).details)}` : "";
                    pulumi.log.info(`${marker} rejected: ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : JSON.stringify(error)}${details}`);
                }
            },
        },
        { workDir: workspace.project, pulumiCommand: workspace.pulumiCommand, envVars: pulumiEnv },
    );
    try {
        // Pulumi.yaml's keys without a default must be set; this program reads none of them.
        await probe.setAllConfig({ platform: { value: "existing" }, "domains[0].name": { value: "read-probe" } }, true);
        await probe.preview({ ...engineLog(`read-probe-${stackName}`, events) });
    } finally {
        await probe.workspace.removeStack("read-probe", { force: true });
    }
    const said = events.map((event) => event.diagnosticEvent?.message.trim() ?? "").filter((message) => message.startsWith(marker));
    check(said.length === 1, `the read probe of ${stackName} logged ${said.length} answers`);
    return said[0].slice(marker.length).trim();
}
