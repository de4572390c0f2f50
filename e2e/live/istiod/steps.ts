/**
 * The live istiod phases as scenario steps (e2e/scenarios/context.ts): after the `up` that
 * deployed `context.mesh`, one istiod per cluster from what the program deployed, its debug
 * endpoints checked, then stopped. Each check needs `istiod-start` only; `istiod-stop` always
 * runs, and teardown stops any istiod still running (the processes are tracked).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { bin, logs, work } from "../../runner/paths";
import { track } from "../../runner/processes";
import { Context, Step } from "../../scenarios/context";
import { LiveCluster, LiveIstiods } from "./phases";

/** The sample Service every domain deploys (components/sampleCatalog.ts; `sleep` runs in the client domain only): the registry check must find it in every peer. */
const sampleServices = ["helloworld/helloworld"];

const lives = new WeakMap<Context, LiveIstiods>();

/** The live istiods of this run's mesh, made at `istiod-start` from plain parameters per cluster. */
function liveOf(context: Context): LiveIstiods {
    let live = lives.get(context);
    if (live === undefined) {
        const clusters: LiveCluster[] = context.mesh.map((domain) => ({
            name: domain.name,
            address: domain.address,
            kube: { kubectl: bin("kube", "kubectl"), kubeconfig: domain.kubeconfig },
            trustDomain: domain.trustDomain,
            domainRootPem: fs.readFileSync(path.join(domain.rootDir, "root.crt"), "utf8"),
        }));
        live = new LiveIstiods(clusters, {
            binary: bin("istio", "pilot-discovery"),
            workDir: path.join(work, "istiod"),
            logDir: logs,
            requiredServices: sampleServices,
            // The program withholds Secrets from peers' credentials (components/peerReaders.ts): with
            // Istio 1.30.3 the peer then shows as `timeout`, while its services are served.
            acceptRefused: ["secrets"],
            onSpawn: (child) => void track(child),
        });
        lives.set(context, live);
    }
    return live;
}

export const istiodSteps: Step[] = [
    { name: "istiod-start", run: (context, evidence) => liveOf(context).start(evidence) },
    { name: "istiod-mesh-config", after: "istiod-start", run: (context, evidence) => liveOf(context).checkMeshConfig(evidence) },
    {
        name: "istiod-peers-synced",
        after: "istiod-start",
        run: async (context, evidence) => {
            await liveOf(context).checkPeersSynced(evidence, context.deployedAt);
        },
    },
    { name: "istiod-peer-services", after: "istiod-start", run: (context, evidence) => liveOf(context).checkPeerServices(evidence) },
    { name: "istiod-peer-gateways", after: "istiod-start", run: (context, evidence) => liveOf(context).checkPeerGateways(evidence) },
    {
        name: "istiod-ca-root",
        after: "istiod-start",
        run: async (context, evidence) => {
            await liveOf(context).checkCaRoot(evidence);
            liveOf(context).logErrors(evidence);
        },
    },
    {
        name: "istiod-stop",
        run: async (context, evidence) => {
            const live = liveOf(context);
            await live.stop(evidence);
            // What istiod wrote that the stack does not own goes with the namespaces on destroy; its working directories hold tokens and keys.
            live.cleanWorkDirs();
            evidence.push(`working directories removed; logs kept in ${logs} on failure`);
        },
    },
];
