/**
 * Checks of the live SPIRE layer, each reading the processes' own CLIs and endpoints (and the API
 * server), never the program's code: what they compare against is what the program exported
 * (stack outputs) and the roots the test bed generated.
 */
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { kubectl, kubectlJson, List, Meta } from "./kube";
import { attestedAgents, certificateRequests, idOf, LiveAgent, LiveCluster, LiveServer, SpireBinaries, spireServerCli, spireServerJson } from "./spire";
import { runTool, tailOf, waitFor } from "./supervisor";

/** One trust domain of the live mesh: its cluster, its processes, and what the program exported for it. */
export interface LiveDomain {
    cluster: LiveCluster;
    binaries: SpireBinaries;
    server: LiveServer;
    agents: LiveAgent[];
    /** The domain's root certificate (PEM) as the test bed generated it. */
    rootPem: string;
    /** What the program exports for the domain: `trustBundle` (SPIFFE JSON) and the bundle endpoint URL. */
    exported: { trustBundle: string; bundleEndpointUrl: string };
}

const derOf = (pem: string): string => new X509Certificate(pem).raw.toString("base64");

/** A bundle as `spire-server bundle show/list -output json` prints it (protojson, proto names). */
export interface BundleJson {
    trust_domain: string;
    x509_authorities?: { asn1: string }[];
    jwt_authorities?: { key_id: string; public_key: string; expires_at: string }[];
    refresh_hint?: string;
    sequence_number?: string;
}

/** A bundle reduced to what comparisons need: X.509 authorities (base64 DER) and JWT key IDs, each sorted. */
export function bundleKeys(bundle: BundleJson): { x509: string[]; jwt: string[] } {
    return {
        x509: (bundle.x509_authorities ?? []).map((authority) => authority.asn1).sort(),
        jwt: (bundle.jwt_authorities ?? []).map((authority) => authority.key_id).sort(),
    };
}

/** The X.509 authorities (base64 DER, sorted) of a SPIFFE bundle document (what the program exports). */
export function spiffeBundleAuthorities(document: string): string[] {
    const keys = (JSON.parse(document) as { keys?: { use?: string; x5c?: string[] }[] }).keys ?? [];
    return keys.filter((key) => key.use === "x509-svid").map((key) => key.x5c?.[0] ?? "").sort();
}

export async function ownBundle(domain: LiveDomain): Promise<BundleJson> {
    return spireServerJson<BundleJson>(domain.binaries, domain.server.socketPath, "bundle", "show");
}

export async function federatedBundles(domain: LiveDomain): Promise<BundleJson[]> {
    return (await spireServerJson<{ bundles?: BundleJson[] }>(domain.binaries, domain.server.socketPath, "bundle", "list")).bundles ?? [];
}

/** The certificate chain a TLS server presents (leaf first), read from the handshake itself. */
export function presentedChain(host: string, port: number): Promise<X509Certificate[]> {
    return new Promise((resolve, reject) => {
        // No verification here: the chain is what is checked, with openssl, afterwards.
        const socket = tls.connect({ host, port, rejectUnauthorized: false }, () => {
            const chain: X509Certificate[] = [];
            let certificate = socket.getPeerCertificate(true);
            const seen = new Set<string>();
            while (certificate?.raw && !seen.has(certificate.fingerprint256)) {
                seen.add(certificate.fingerprint256);
                chain.push(new X509Certificate(certificate.raw));
                certificate = certificate.issuerCertificate;
            }
            socket.end();
            resolve(chain);
        });
        socket.setTimeout(10_000, () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
        socket.on("error", reject);
    });
}

/** `openssl verify` of `leafPem` against `rootPem` through `intermediatesPem`; resolves with openssl's answer or rejects with it. */
export async function opensslVerify(dir: string, rootPem: string, intermediatesPem: string, leafPem: string): Promise<string> {
    fs.mkdirSync(dir, { recursive: true });
    const [root, untrusted, leaf] = ["root.crt", "intermediates.crt", "leaf.crt"].map((name) => path.join(dir, name));
    fs.writeFileSync(root, rootPem);
    fs.writeFileSync(untrusted, intermediatesPem);
    fs.writeFileSync(leaf, leafPem);
    return (await runTool("openssl", ["verify", "-CAfile", root, "-untrusted", untrusted, leaf])).trim();
}

/**
 * The server's X.509 CA was issued through the domain's cert-manager Issuer and chains to the
 * domain root, and its bundle's X.509 authorities are what the program exports as `trustBundle`.
 * The CA is read from the chain the server presents at its bundle endpoint (its own SVID and CA).
 */
export async function checkServerCa(domain: LiveDomain, evidence: string[]): Promise<X509Certificate> {
    const { cluster, server } = domain;
    const issuer = server.facts.certManager;
    if (issuer === undefined) throw new Error(`${cluster.name}: server.conf has no cert-manager upstream authority`);
    // SPIRE's cert-manager plugin deletes its CertificateRequests once they are Ready (spire v1.15.2
    // pkg/server/plugin/upstreamauthority/certmanager/api.go:74): what stays is cert-manager's
    // Events on them, and a request still pending, if any.
    const requests = await certificateRequests(cluster, issuer.namespace, issuer.issuerName);
    const events = await kubectlJson<List<{ involvedObject: { kind: string; name: string }; reason: string; message: string }>>(cluster, "-n", issuer.namespace, "get", "events");
    const issuedEvents = events.items.filter((event) => event.involvedObject.kind === "CertificateRequest" && event.reason === "CertificateIssued");
    const issued = requests.filter((request) => request.ready && request.certificate);
    if (issuedEvents.length === 0 && issued.length === 0) throw new Error(`${cluster.name}: no CertificateRequest issued in ${issuer.namespace} (no CertificateIssued event, no Ready request for ${issuer.issuerKind} ${issuer.issuerName}; ${requests.length} requests there now)`);
    const issuedCertificates = new Set(issued.map((request) => derOf(Buffer.from(request.certificate!, "base64").toString())));
    const chain = await presentedChain(cluster.address, server.facts.bundleEndpointPort);
    if (chain.length < 2) throw new Error(`${cluster.name}: the bundle endpoint presents ${chain.length} certificate(s), want its SVID and the SPIRE CA`);
    const [leaf, ca] = chain;
    const wantServerId = `spiffe://${cluster.trustDomain}/spire/server`;
    if (!leaf.subjectAltName?.includes(`URI:${wantServerId}`)) throw new Error(`${cluster.name}: the bundle endpoint presents ${leaf.subjectAltName}, want ${wantServerId}`);
    if (!ca.ca) throw new Error(`${cluster.name}: the certificate above the server's SVID is no CA`);
    if (issued.length > 0 && !issuedCertificates.has(ca.raw.toString("base64"))) throw new Error(`${cluster.name}: the SPIRE CA (${ca.subject.replace(/\n/g, ", ")}) is none of the ${issued.length} certificates cert-manager issued through ${issuer.namespace}/${issuer.issuerName}`);
    // The root signs only the SPIRE intermediate, outside the cluster: the SPIRE CA is issued by that
    // intermediate, never by the root itself, and the chain presented carries it up to the root.
    if (ca.checkIssued(new X509Certificate(domain.rootPem))) throw new Error(`${cluster.name}: the SPIRE CA was signed by the root itself, not by an intermediate`);
    const verified = await opensslVerify(path.join(cluster.workDir, "check-ca"), domain.rootPem, chain.slice(1).map((certificate) => certificate.toString()).join(""), leaf.toString());

    const bundle = bundleKeys(await ownBundle(domain));
    const exported = spiffeBundleAuthorities(domain.exported.trustBundle);
    if (JSON.stringify(bundle.x509) !== JSON.stringify(exported)) {
        throw new Error(`${cluster.name}: the server's bundle has ${bundle.x509.length} X.509 authorities that differ from the ${exported.length} in the exported trustBundle`);
    }
    evidence.push(
        `${cluster.name}: SPIRE CA "${ca.subject.replace(/\n/g, ", ")}" issued by cert-manager (${issuedEvents.map((event) => `CertificateIssued on ${event.involvedObject.name}: ${event.message}`).join("; ") || `CertificateRequest ${issued.map((request) => request.name).join(", ")} Ready`}; ${issuer.issuerKind} ${issuer.namespace}/${issuer.issuerName}, whose Secret holds the SPIRE intermediate, not the root); server SVID ${wantServerId} -> SPIRE CA (issued by ${ca.issuer.replace(/\n/g, ", ")}) -> ${chain.length - 2} more presented -> root: openssl ${verified.replace(/^.*: /, "")}; bundle X.509 authorities = exported trustBundle's (${exported.length}), plus ${bundle.jwt.length} JWT keys`,
    );
    return ca;
}

/** Where a holder stands with one peer: what it holds of the peer's bundle, against the peer's own. */
export function peerBundleState(held: BundleJson | undefined, own: BundleJson): "absent" | "bootstrap" | "stale" | "fetched" {
    if (held === undefined) return "absent";
    const [h, o] = [bundleKeys(held), bundleKeys(own)];
    if (JSON.stringify(h) === JSON.stringify(o)) return "fetched";
    // The bootstrap bundle the program hands out carries X.509 roots only; only a fetch brings JWT keys.
    return h.jwt.length === 0 ? "bootstrap" : "stale";
}

/** The holder server's own log lines about `peerTrustDomain` at warning or error level: the process's own words. */
export function serverErrorsAbout(domain: LiveDomain, peerTrustDomain: string, lines = 4): string {
    const log = tailOf(domain.server.process.logFile, 400).split("\n");
    const about = log.filter((line) => line.includes(peerTrustDomain) && /level=(error|warning)/.test(line));
    return about.slice(-lines).join("\n");
}

/**
 * Every server holds every peer's bundle as the peer itself serves it (X.509 and JWT authorities
 * equal to the peer's `bundle show`), which only a fetch from the peer's bundle endpoint brings
 * (the bootstrap bundle has no JWT keys), through a federation relationship naming the URL and
 * endpoint SPIFFE ID the program exported; and no bundle of a domain it does not federate with.
 * Waits for it; a timeout quotes each holder's own errors about the peers it lacks.
 */
export async function waitPeerBundlesFetched(domains: LiveDomain[], timeoutMs: number, evidence: string[]): Promise<number> {
    const states = new Map<string, string>();
    const { seconds } = await waitFor(
        "every server holding every peer's bundle fetched from its endpoint",
        async () => {
            let done = true;
            for (const holder of domains) {
                const held = await federatedBundles(holder);
                for (const peer of domains.filter((other) => other !== holder)) {
                    const state = peerBundleState(
                        held.find((bundle) => bundle.trust_domain === peer.cluster.trustDomain),
                        await ownBundle(peer),
                    );
                    states.set(`${holder.cluster.name} <- ${peer.cluster.trustDomain}`, state);
                    if (state !== "fetched") done = false;
                }
            }
            return done ? true : undefined;
        },
        timeoutMs,
        () =>
            [...states.entries()]
                .filter(([, state]) => state !== "fetched")
                .map(([pair, state]) => {
                    const [holderName, peerTrustDomain] = pair.split(" <- ");
                    const holder = domains.find((domain) => domain.cluster.name === holderName)!;
                    return `${pair}: ${state}; ${holder.cluster.name}'s server says:\n${serverErrorsAbout(holder, peerTrustDomain) || "  (nothing about it in its log)"}`;
                })
                .join("\n"),
        2000,
    );
    for (const holder of domains) {
        const peers = domains.filter((other) => other !== holder);
        const held = (await federatedBundles(holder)).map((bundle) => bundle.trust_domain).sort();
        const want = peers.map((peer) => peer.cluster.trustDomain).sort();
        if (JSON.stringify(held) !== JSON.stringify(want)) throw new Error(`${holder.cluster.name} holds bundles of ${held.join(", ")}, want exactly ${want.join(", ")}`);
        const relationships = (await spireServerJson<{ federation_relationships?: { trust_domain: string; bundle_endpoint_url: string; https_spiffe?: { endpoint_spiffe_id: string } }[] }>(holder.binaries, holder.server.socketPath, "federation", "list")).federation_relationships ?? [];
        for (const peer of peers) {
            const relationship = relationships.find((r) => r.trust_domain === peer.cluster.trustDomain);
            if (relationship === undefined) throw new Error(`${holder.cluster.name}: no federation relationship with ${peer.cluster.trustDomain}`);
            if (relationship.bundle_endpoint_url !== peer.exported.bundleEndpointUrl) throw new Error(`${holder.cluster.name}: federation with ${peer.cluster.trustDomain} fetches from ${relationship.bundle_endpoint_url}, the peer exports ${peer.exported.bundleEndpointUrl}`);
            evidence.push(`${holder.cluster.name} holds ${peer.cluster.trustDomain}'s bundle as the peer serves it (X.509 + JWT keys), fetched from ${relationship.bundle_endpoint_url} (https_spiffe, ${relationship.https_spiffe?.endpoint_spiffe_id ?? "?"})`);
        }
        evidence.push(`${holder.cluster.name}: federated bundles ${held.join(", ")} and nothing else`);
    }
    return seconds;
}

/**
 * A refresh, not the bootstrap copy: a new JWT authority prepared on `rotating`'s server (its
 * bundle gains a key; the X.509 side stays the upstream root) reaches every peer's copy through
 * their periodic fetch, within `timeoutMs`. Returns the seconds it took.
 */
export async function checkBundleRefresh(domains: LiveDomain[], rotating: LiveDomain, timeoutMs: number, evidence: string[]): Promise<number> {
    const before = bundleKeys(await ownBundle(rotating)).jwt;
    const prepared = await spireServerJson<{ prepared_authority?: { authority_id: string } }>(rotating.binaries, rotating.server.socketPath, "localauthority", "jwt", "prepare");
    const after = bundleKeys(await ownBundle(rotating)).jwt;
    const added = after.filter((key) => !before.includes(key));
    if (added.length !== 1) throw new Error(`${rotating.cluster.name}: jwt prepare (authority ${prepared.prepared_authority?.authority_id ?? "?"}) added ${added.length} keys to the bundle, want 1`);
    const peers = domains.filter((domain) => domain !== rotating);
    const { seconds } = await waitFor(
        `every peer's copy of ${rotating.cluster.trustDomain} gaining JWT key ${added[0]}`,
        async () => {
            for (const peer of peers) {
                const held = (await federatedBundles(peer)).find((bundle) => bundle.trust_domain === rotating.cluster.trustDomain);
                if (held === undefined || !bundleKeys(held).jwt.includes(added[0])) return undefined;
            }
            return true;
        },
        timeoutMs,
        () => peers.map((peer) => `${peer.cluster.name}'s server says:\n${serverErrorsAbout(peer, rotating.cluster.trustDomain) || "  (nothing about it in its log)"}`).join("\n"),
        2000,
    );
    evidence.push(`${rotating.cluster.name}: localauthority jwt prepare added key ${added[0]}; ${peers.map((peer) => peer.cluster.name).join(", ")} held it ${seconds.toFixed(0)}s later (served refresh hint ${rotating.server.facts.refreshHint}; SPIRE fetches every hint/4)`);
    return seconds;
}

interface EntryJson {
    id: string;
    spiffe_id: { trust_domain: string; path: string };
    parent_id: { trust_domain: string; path: string };
    selectors?: { type: string; value: string }[];
    federates_with?: string[];
}

export async function entries(domain: LiveDomain): Promise<EntryJson[]> {
    return (await spireServerJson<{ entries?: EntryJson[] }>(domain.binaries, domain.server.socketPath, "entry", "show")).entries ?? [];
}

interface Pod extends Meta {
    spec: { nodeName?: string; serviceAccountName?: string };
}

/** Label Istio's sidecar injector adds to every pod it injects (what the program's ClusterSPIFFEID selects). */
export const injectorLabel = "service.istio.io/canonical-name";

/**
 * The test bed's stand-in for Istio's injection webhook (none runs here: admission webhooks are
 * off): the label the injector adds, put on the pods it would inject, those in namespaces labelled
 * `istio-injection=enabled` and those labelled `sidecar.istio.io/inject=true`. Its value is the
 * pod's `app` label, as the injector derives it. Returns the pods labelled.
 */
export async function labelAsInjected(cluster: LiveCluster): Promise<Pod[]> {
    const namespaces = await kubectlJson<List<Meta>>(cluster, "get", "namespaces", "-l", "istio-injection=enabled");
    const pods: Pod[] = [];
    for (const namespace of namespaces.items) pods.push(...(await kubectlJson<List<Pod>>(cluster, "-n", namespace.metadata.name, "get", "pods")).items);
    pods.push(...(await kubectlJson<List<Pod>>(cluster, "get", "pods", "--all-namespaces", "-l", "sidecar.istio.io/inject=true")).items);
    const unique = [...new Map(pods.map((pod) => [pod.metadata.uid, pod])).values()];
    for (const pod of unique) {
        const value = pod.metadata.labels?.app ?? pod.metadata.name;
        await kubectl(cluster, "-n", pod.metadata.namespace ?? "", "label", "pod", pod.metadata.name, "--overwrite", `${injectorLabel}=${value}`);
    }
    return unique;
}

/**
 * Registration entries for the injected sample pods, as spire-controller-manager made them from
 * the program's ClusterSPIFFEID: one per pod (selected by its UID), Istio's ID layout, federating
 * with exactly every peer, parented to the agent that attested the pod's node with k8s_psat.
 */
export async function checkWorkloadEntries(domain: LiveDomain, pods: Pod[], peers: string[], timeoutMs: number, evidence: string[]): Promise<void> {
    if (pods.length === 0) throw new Error(`${domain.cluster.name}: no sample pods to register`);
    const agents = await attestedAgents(domain.binaries, domain.server.socketPath);
    const nodeUid = async (node: string) => (await kubectl(domain.cluster, "get", "node", node, "-o", "jsonpath={.metadata.uid}")).trim();
    const problems: string[] = [];
    await waitFor(
        `${domain.cluster.name}: an entry per sample pod`,
        async () => {
            problems.length = 0;
            const all = await entries(domain);
            for (const pod of pods) {
                const entry = all.find((candidate) => candidate.selectors?.some((selector) => selector.type === "k8s" && selector.value === `pod-uid:${pod.metadata.uid}`));
                const where = `${pod.metadata.namespace}/${pod.metadata.name}`;
                if (entry === undefined) {
                    problems.push(`${where}: no entry`);
                    continue;
                }
                const wantId = `spiffe://${domain.cluster.trustDomain}/ns/${pod.metadata.namespace}/sa/${pod.spec.serviceAccountName ?? "default"}`;
                if (idOf(entry.spiffe_id) !== wantId) problems.push(`${where}: entry ${idOf(entry.spiffe_id)}, want ${wantId}`);
                const federates = [...(entry.federates_with ?? [])].map((td) => td.replace(/^spiffe:\/\//, "")).sort();
                if (JSON.stringify(federates) !== JSON.stringify([...peers].sort())) problems.push(`${where}: federates with [${federates.join(", ")}], want [${[...peers].sort().join(", ")}]`);
                const parent = idOf(entry.parent_id);
                const agent = agents.find((candidate) => candidate.spiffeId === parent);
                if (agent === undefined || agent.attestationType !== "k8s_psat") problems.push(`${where}: parent ${parent} is no agent attested with k8s_psat`);
                else if (!parent.endsWith(`/${await nodeUid(pod.spec.nodeName ?? "")}`)) problems.push(`${where}: parent ${parent} is not the agent of node ${pod.spec.nodeName}`);
            }
            return problems.length === 0 ? true : undefined;
        },
        timeoutMs,
        () => problems.join("\n"),
        2000,
    );
    const parents = [...new Set(agents.map((agent) => `${agent.spiffeId} (${agent.attestationType})`))];
    evidence.push(`${domain.cluster.name}: ${pods.length} sample pods each have an entry spiffe://${domain.cluster.trustDomain}/ns/<ns>/sa/<sa> federating with ${peers.join(", ")}, parented to ${parents.join(", ")}`);
}

/**
 * A workload really gets an identity: the test bed registers its own probe (by `unix:uid`
 * selector, under the agent) and fetches its X.509-SVID through the agent's Workload API with
 * `spire-agent api fetch x509`. Checks the SPIFFE ID, the chain up to the domain root through the
 * cert-manager-issued SPIRE CA (openssl verify), and every peer's federated bundle beside it
 * (exactly the peer's root).
 */
export async function checkWorkloadSvid(domain: LiveDomain, spireCa: X509Certificate, peers: LiveDomain[], timeoutMs: number, evidence: string[]): Promise<void> {
    const agent = domain.agents[0];
    const probeId = `spiffe://${domain.cluster.trustDomain}/e2e/live-probe`;
    const uid = process.getuid?.() ?? 0;
    const existing = (await entries(domain)).find((entry) => idOf(entry.spiffe_id) === probeId);
    if (existing === undefined) {
        await spireServerCli(
            domain.binaries,
            domain.server.socketPath,
            "entry", "create", "-parentID", agent.spiffeId, "-spiffeID", probeId, "-selector", `unix:uid:${uid}`,
            ...peers.flatMap((peer) => ["-federatesWith", `spiffe://${peer.cluster.trustDomain}`]),
        );
    }
    const dir = path.join(domain.cluster.workDir, "probe-svid");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // The agent learns of the entry at its next sync; until then the fetch has no identity for the probe.
    const { seconds } = await waitFor(
        `${domain.cluster.name}: an X.509-SVID for ${probeId} from the agent's Workload API`,
        async () => {
            await runTool(domain.binaries.agent, ["api", "fetch", "x509", "-socketPath", agent.socketPath, "-write", dir, "-timeout", "5s"]);
            return fs.existsSync(path.join(dir, "svid.0.pem")) ? true : undefined;
        },
        timeoutMs,
        () => tailOf(agent.process.logFile, 5),
        2000,
    );
    const chainPem = fs.readFileSync(path.join(dir, "svid.0.pem"), "utf8");
    const chain = (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
    const leaf = chain[0];
    if (!leaf.subjectAltName?.includes(`URI:${probeId}`)) throw new Error(`${domain.cluster.name}: the SVID names ${leaf.subjectAltName}, want ${probeId}`);
    if (!chain.slice(1).some((certificate) => certificate.raw.equals(spireCa.raw))) throw new Error(`${domain.cluster.name}: the SVID's chain does not hold the cert-manager-issued SPIRE CA`);
    const verified = await opensslVerify(path.join(dir, "verify"), domain.rootPem, chain.slice(1).map((certificate) => certificate.toString()).join(""), leaf.toString());
    const federated: string[] = [];
    for (const file of fs.readdirSync(dir).filter((name) => name.startsWith("federated_bundle.0.")).sort()) {
        federated.push(...(fs.readFileSync(path.join(dir, file), "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(derOf));
    }
    const wantFederated = peers.map((peer) => derOf(peer.rootPem)).sort();
    if (JSON.stringify([...federated].sort()) !== JSON.stringify(wantFederated)) throw new Error(`${domain.cluster.name}: the Workload API gives ${federated.length} federated roots, want exactly the ${peers.length} peers' roots`);
    const bundle = fs.readFileSync(path.join(dir, "bundle.0.pem"), "utf8");
    if (derOf(bundle) !== derOf(domain.rootPem)) throw new Error(`${domain.cluster.name}: the SVID's trust bundle is not the domain root`);
    evidence.push(`${domain.cluster.name}: probe (unix:uid:${uid}) got ${probeId} from agent ${agent.spiffeId} after ${seconds.toFixed(0)}s; chain leaf -> SPIRE CA (cert-manager-issued) -> ${domain.cluster.trustDomain} root: openssl ${verified.replace(/^.*: /, "")}; bundle = domain root; federated bundles = roots of ${peers.map((peer) => peer.cluster.trustDomain).join(", ")}`);
}
