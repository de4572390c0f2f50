import { probeReader } from "./readerProbe";
import { remoteReads, without } from "./readerRbac";
async function main() {
    const k = (name: string) => ({ kubectl: "/work/main/.e2e-cache/bin/kube/current/kubectl", kubeconfig: `/work/wt-live-istiod/.e2e-cache/clusters/${name}/kubeconfig` });
    const holder = { name: "cluster-1", address: "127.0.0.2", kube: k("cluster-1") };
    const peer = { name: "cluster-2", address: "127.0.0.3", kube: k("cluster-2") };
    for (const spec of (process.env.PROBES ?? "full").split(",")) {
        const reads = spec === "full" ? remoteReads : without(remoteReads, ...spec.replace(/^no-/, "").split("+"));
        const t0 = Date.now();
        try {
            const r = await probeReader(holder, peer, "cluster-2", spec, reads, { binary: "/work/main/.e2e-cache/bin/istio/current/pilot-discovery", workDir: "/tmp/istiod-smoke/probes/cluster-1", logDir: "/tmp/istiod-smoke/logs" });
            console.log("PROBE", JSON.stringify(r), ((Date.now() - t0) / 1000).toFixed(0) + "s total");
        } catch (e) { console.log("PROBE", spec, "ERROR", (e as Error).message.slice(0, 2000)); }
    }
}
main().catch((e) => { console.error(e); process.exit(1); });
