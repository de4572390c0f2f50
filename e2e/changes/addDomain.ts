/**
 * add-third-domain: a domain added to a running mesh's `domains`. The engine's steps replace,
 * delete or discard nothing; every resource of the state before keeps its ID; on the clusters
 * already there `cacerts`' serial and every Deployment's and StatefulSet's UID stay the same.
 */
import { EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation";
import { Repositories } from "../charts/mirror";
import { cacerts } from "../checks/cacerts";
import { Domain } from "../clusters/domains";
import { recordGeneratedRoots } from "../clusters/rootCa";
import { stepsByOp } from "../engine/engineState";
import { countOps, engineLog } from "../engine/events";
import { domainConfig } from "../engine/stackConfig";
import { stateResources } from "../engine/workspace";
import { kubectl } from "../runner/kubectl";
import { check } from "../runner/phases";

/**
 * What a cluster holds that a replacement would renew: cacerts' serial, the SPIRE server's and istiod's objects' UIDs.
 * @param domain the cluster
 */
async function identity(domain: Domain): Promise<string> {
    const serial = (await cacerts(domain)).serialNumber;
    const uids = await kubectl(domain, "get", "statefulsets,deployments", "--all-namespaces", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.uid}{\"\\n\"}{end}");
    return `${serial}\n${uids.trim().split("\n").sort().join("\n")}`;
}

/**
 * Sets the stack's `domains` to `mesh` plus `added`, runs `up` and checks that nothing of `mesh` was renewed.
 * @param stack the stack deploying `mesh`
 * @param mesh its domains before
 * @param added the new domain, its cluster up and its root made
 * @param repositories the chart mirror, for the new config
 * @param roots whether the scenario supplies roots in config or the program generates them
 * @param onOutputs receives the stack's outputs as soon as `up` returns, before the checks
 * @param evidence the phase's
 */
export async function addDomain(stack: Stack, mesh: Domain[], added: Domain, repositories: Repositories, roots: "supplied" | "generated", onOutputs: (outputs: OutputMap) => void, evidence: string[]): Promise<void> {
    const before = await stateResources(stack);
    const identities = await Promise.all(mesh.map(identity));
    await stack.setAllConfig(domainConfig([...mesh, added], repositories, roots), true);
    const events: EngineEvent[] = [];
    const result = await stack.up(engineLog("up-third-domain", events));
    onOutputs(result.outputs);
    if (roots === "generated") recordGeneratedRoots(await stateResources(stack), [added], evidence);
    evidence.push(`up: ${countOps(result.summary.resourceChanges)}`);
    const byOp = stepsByOp(events);
    const destructive = ["replace", "create-replacement", "delete-replaced", "delete", "discard"].flatMap((op) => (byOp.get(op) ?? []).map((urn) => `${op} ${urn}`));
    check(destructive.length === 0, `adding ${added.trustDomain} replaced or deleted:\n  ${destructive.join("\n  ")}`);
    // Independently of the step events: every resource of the state before is still there, with the same ID.
    const after = new Map((await stateResources(stack)).map((resource) => [resource.urn, resource]));
    const renewed = before.filter((resource) => resource.custom && after.get(resource.urn)?.id !== resource.id).map((resource) => resource.urn);
    check(renewed.length === 0, `resources gone or with a new ID after adding ${added.trustDomain}:\n  ${renewed.join("\n  ")}`);
    for (const [i, domain] of mesh.entries()) {
        check((await identity(domain)) === identities[i], `${domain.name}: cacerts was re-issued or a workload was re-created while adding ${added.trustDomain}`);
    }
    const updated = (byOp.get("update") ?? []).map((urn) => urn.split("::").pop());
    evidence.push(`${before.filter((resource) => resource.custom).length} resources of ${mesh.map((domain) => domain.trustDomain).join(" and ")} kept their IDs; cacerts serials and workload UIDs on ${mesh.map((domain) => domain.name).join(", ")} unchanged`);
    evidence.push(`created ${(byOp.get("create") ?? []).length}; updated in place: ${updated.join(", ") || "none"}`);
}
