import { X509Certificate } from "node:crypto";
import {
    clientDomainIndex,
    helloworld,
    helloworldDeploymentName,
    helloworldVersion,
    ingressDomainIndex,
    sampleIdentities,
    sleepClient,
    workloadSpiffeId,
} from "../../components/sampleCatalog";
import { durationSeconds } from "../../config/durations";
import { checkSvidChain, lifetimeSeconds, missingRoots } from "./chain";
import { curlBatchCommand, describeSummary, parseCurlBatch, ReplySummary, summarizeReplies } from "./curl";
import { proxySecretsFromConfigDump, secretsDumpCommand } from "./envoy";
import { DomainTarget, ExpectedDuration, MeshTarget } from "./inputs";
import { istiodContainer, istiodLabelSelector, istiodMetricsCommand, notAfterSeconds, parseIstiodCaExpiry } from "./istiod";
import { MeshAccess, PodSummary, servingPods } from "./meshAccess";
import { CheckId, CheckResult, doneLine, progressLine } from "./report";
import { certificatesFromPem, describeCertificate, sameCertificate } from "./spiffe";

/** Time, injectable so that tests run retries without waiting. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface CheckSettings {
    requests: number;
    /** Per check: how long to retry while the mesh converges. */
    timeoutMs: number;
    /** Pause between attempts. */
    intervalMs: number;
    /** The configured cacerts lifetime, or why it could not be read (the rotation check then fails). */
    istiodCertDuration: ExpectedDuration;
    spireNamespace: string;
    istioNamespace: string;
    /** Accepted difference between the cacerts lifetime and the configured duration. */
    lifetimeToleranceSeconds: number;
}

export const defaultCheckSettings: Omit<CheckSettings, "istiodCertDuration"> = {
    requests: 20,
    timeoutMs: 180_000,
    intervalMs: 5_000,
    spireNamespace: "spire-server",
    istioNamespace: "istio-system",
    lifetimeToleranceSeconds: 300,
};

export interface CheckContext {
    target: MeshTarget;
    /** Access to each domain's cluster, by domain name. */
    access: Record<string, MeshAccess>;
    settings: CheckSettings;
    clock: Clock;
}

/** One try of a check. `final` stops retrying: the problem is not one the mesh converges out of. */
interface Attempt {
    pass: boolean;
    summary: string;
    evidence: string[];
    final?: boolean;
}

interface CheckDefinition {
    title: string;
    run(context: CheckContext): Promise<Attempt & { attempts: number }>;
}

function accessOf(context: CheckContext, domain: DomainTarget): MeshAccess {
    const access = context.access[domain.name];
    if (!access) throw new Error(`no cluster access for domain ${domain.name}`);
    return access;
}

/** Retries `attempt` until it passes, says it is final, or the check's time is up. */
async function converge(context: CheckContext, attempt: () => Promise<Attempt>): Promise<Attempt & { attempts: number }> {
    const deadline = context.clock.now() + context.settings.timeoutMs;
    let attempts = 0;
    for (;;) {
        attempts++;
        let outcome: Attempt;
        try {
            outcome = await attempt();
        } catch (error) {
            outcome = { pass: false, summary: `error: ${(error as Error).message}`, evidence: [] };
        }
        if (outcome.pass || outcome.final || context.clock.now() + context.settings.intervalMs > deadline) {
            return { ...outcome, attempts };
        }
        await context.clock.sleep(context.settings.intervalMs);
    }
}

const helloworldUrl = `http://${helloworld.service}.${helloworld.namespace}:${helloworld.port}${helloworld.path}`;

async function clientPod(access: MeshAccess): Promise<PodSummary> {
    const pods = servingPods(await access.listPods(sleepClient.namespace, `app=${sleepClient.appLabel}`));
    const pod = pods.find((candidate) => candidate.ready) ?? pods[0];
    if (!pod) throw new Error(`no running ${sleepClient.appLabel} pod in namespace ${sleepClient.namespace} of ${access.clusterName} (samples deployed?)`);
    return pod;
}

/** Sends the batch from the client domain's sleep pod. */
async function requestBatch(context: CheckContext, url: string): Promise<{ summary: ReplySummary; from: string }> {
    const access = accessOf(context, context.target.domains[clientDomainIndex]);
    const pod = await clientPod(access);
    const count = context.settings.requests;
    const result = await access.execInPod(pod.namespace, pod.name, sleepClient.container, curlBatchCommand(url, count), count * 6_000 + 30_000);
    const replies = parseCurlBatch(result.stdout);
    if (replies.length === 0) {
        throw new Error(`exec in ${access.clusterName}/${pod.name} printed no replies (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 200)}`);
    }
    const summary = summarizeReplies(replies, count);
    if (summary.received < count) {
        // Why the stream ended early is the useful part of the evidence.
        summary.failures.splice(1, 0, `exec ended with exit ${result.exitCode}: ${result.stderr.trim().slice(0, 160) || "(no stderr)"}`);
    }
    return { summary, from: `${access.clusterName}/${pod.namespace}/${pod.name}` };
}

function trafficEvidence(from: string, url: string, count: number, summary: ReplySummary): string[] {
    return [`${count} x GET ${url} from ${from}`, describeSummary(summary), ...summary.failures.map((failure) => `failure: ${failure}`)];
}

const loadBalancing: CheckDefinition = {
    title: "requests from the first domain reach every domain's helloworld version",
    run: (context) => {
        const expected = context.target.domains.map((_, index) => helloworldVersion(index));
        return converge(context, async () => {
            const { summary, from } = await requestBatch(context, helloworldUrl);
            const missing = expected.filter((version) => !summary.versions[version]);
            const evidence = trafficEvidence(from, helloworldUrl, context.settings.requests, summary);
            if (missing.length > 0) evidence.push(`never answered: ${missing.join(", ")}`);
            return {
                pass: summary.failed === 0 && missing.length === 0,
                summary: `${describeSummary(summary)}; expected ${expected.join(", ")}`,
                evidence,
            };
        });
    },
};

const failover: CheckDefinition = {
    title: "with the local helloworld scaled to zero, remote versions answer",
    run: async (context) => {
        const domain = context.target.domains[clientDomainIndex];
        const access = accessOf(context, domain);
        const name = helloworldDeploymentName(clientDomainIndex);
        const localVersion = helloworldVersion(clientDomainIndex);
        const state = await access.getDeployment(helloworld.namespace, name);
        if (!state) {
            return { pass: false, summary: `deployment ${helloworld.namespace}/${name} not found in ${domain.name}`, evidence: [], attempts: 1 };
        }
        const original = state.replicas;
        const evidence = [`scaled ${domain.name} ${helloworld.namespace}/${name} from ${original} to 0`];
        let outcome: Attempt & { attempts: number };
        try {
            await access.scaleDeployment(helloworld.namespace, name, 0);
            outcome = await converge(context, async () => {
                const local = servingPods(await access.listPods(helloworld.namespace, `app=${helloworld.appLabel},version=${localVersion}`));
                if (local.length > 0) {
                    return { pass: false, summary: `${local.length} local ${localVersion} pod(s) still running`, evidence: local.map((pod) => `still running: ${pod.name}`) };
                }
                const { summary, from } = await requestBatch(context, helloworldUrl);
                const localReplies = summary.versions[localVersion] ?? 0;
                const remote = Object.keys(summary.versions).filter((version) => version !== localVersion);
                const attemptEvidence = trafficEvidence(from, helloworldUrl, context.settings.requests, summary);
                if (localReplies > 0) attemptEvidence.push(`${localReplies} replies still from the scaled-down ${localVersion}`);
                return {
                    pass: summary.failed === 0 && summary.succeeded > 0 && localReplies === 0 && remote.length > 0,
                    summary: `${describeSummary(summary)} with ${localVersion} at zero`,
                    evidence: attemptEvidence,
                };
            });
        } catch (error) {
            outcome = { pass: false, summary: `error: ${(error as Error).message}`, evidence: [], attempts: 1 };
        } finally {
            const restored = await restoreReplicas(context, access, name, original);
            evidence.push(restored.line);
            if (!restored.ok) {
                // Reported whatever the traffic showed: the mesh was left changed.
                outcome = { pass: false, summary: `restore failed: ${restored.line}`, evidence: [], attempts: 1 };
            }
        }
        return { ...outcome, evidence: [...evidence.slice(0, 1), ...outcome.evidence, ...evidence.slice(1)] };
    },
};

/** Scales back and waits (bounded) until the replicas are ready again. */
async function restoreReplicas(context: CheckContext, access: MeshAccess, name: string, replicas: number): Promise<{ ok: boolean; line: string }> {
    const where = `${access.clusterName} ${helloworld.namespace}/${name}`;
    try {
        await access.scaleDeployment(helloworld.namespace, name, replicas);
    } catch (error) {
        return { ok: false, line: `could not restore ${where} to ${replicas} replicas: ${(error as Error).message}; scale it back by hand` };
    }
    const deadline = context.clock.now() + context.settings.timeoutMs;
    for (;;) {
        const state = await access.getDeployment(helloworld.namespace, name).catch(() => undefined);
        if (state && state.readyReplicas >= replicas) return { ok: true, line: `restored ${where} to ${replicas} replicas (ready)` };
        if (context.clock.now() + context.settings.intervalMs > deadline) {
            return { ok: false, line: `restored ${where} to ${replicas} replicas, but only ${state?.readyReplicas ?? 0} ready in time` };
        }
        await context.clock.sleep(context.settings.intervalMs);
    }
}

const northSouth: CheckDefinition = {
    title: "the second domain's ingress gateway serves /hello to the first domain's client",
    run: (context) => {
        const domain = context.target.domains[ingressDomainIndex];
        if (!domain.ingressAddress) {
            return Promise.resolve({ pass: false, summary: `stack output domains.${domain.name}.ingressAddress is missing`, evidence: [], attempts: 1 });
        }
        const url = `http://${domain.ingressAddress}${helloworld.path}`;
        return converge(context, async () => {
            const { summary, from } = await requestBatch(context, url);
            const helloReplies = Object.values(summary.versions).reduce((sum, count) => sum + count, 0);
            return {
                pass: summary.failed === 0 && helloReplies === summary.total,
                summary: `${describeSummary(summary)} via ${domain.name}'s ingress ${domain.ingressAddress}`,
                evidence: trafficEvidence(from, url, context.settings.requests, summary),
            };
        });
    },
};

const identity: CheckDefinition = {
    title: "every sample proxy holds its SPIRE SVID chained to exactly its domain's root",
    run: (context) => {
        const domains = context.target.domains;
        const missing = domains.filter((domain) => domain.roots.length === 0);
        if (missing.length > 0) {
            return Promise.resolve({ pass: false, summary: "domain roots unknown", evidence: missing.map((d) => d.rootsProblem ?? d.name), attempts: 1 });
        }
        const allRoots = domains.map((domain) => ({ name: domain.trustDomain, certificates: domain.roots }));
        return converge(context, async () => {
            const evidence: string[] = [];
            let checked = 0;
            let failed = 0;
            for (const [index, domain] of domains.entries()) {
                const access = accessOf(context, domain);
                for (const expected of sampleIdentities(index)) {
                    const pods = servingPods(await access.listPods(expected.namespace, expected.labelSelector));
                    if (pods.length === 0) {
                        failed++;
                        evidence.push(`FAIL ${domain.name} ${expected.namespace} ${expected.labelSelector}: no running pod`);
                        continue;
                    }
                    for (const pod of pods) {
                        checked++;
                        const problems = await podIdentityProblems(access, pod, domain, expected.serviceAccount, allRoots, evidence);
                        if (problems.length > 0) failed++;
                    }
                }
            }
            return {
                pass: failed === 0 && checked > 0,
                summary: failed === 0 ? `${checked} proxies hold SPIRE identities under their domain's root` : `${failed} workload(s) without a correct SPIRE identity (${checked} pods read)`,
                evidence,
            };
        });
    },
};

async function podIdentityProblems(
    access: MeshAccess,
    pod: PodSummary,
    domain: DomainTarget,
    serviceAccount: string,
    allRoots: { name: string; certificates: X509Certificate[] }[],
    evidence: string[],
): Promise<string[]> {
    const where = `${domain.name} ${pod.namespace}/${pod.name}`;
    const expectedId = workloadSpiffeId(domain.trustDomain, pod.namespace, serviceAccount);
    const problems: string[] = [];
    if (pod.serviceAccount !== serviceAccount) problems.push(`runs as ${pod.serviceAccount}, expected ${serviceAccount}`);
    const dump = await access.execInPod(pod.namespace, pod.name, "istio-proxy", secretsDumpCommand, 30_000);
    if (dump.exitCode !== 0) {
        problems.push(`config_dump failed (exit ${dump.exitCode}): ${dump.stderr.trim().slice(0, 160)}`);
    } else {
        const secrets = proxySecretsFromConfigDump(dump.stdout);
        if (!secrets.chain) {
            problems.push("proxy holds no workload certificate (secret `default`)");
        } else {
            const verdict = checkSvidChain({ chain: secrets.chain, expectedId, roots: domain.roots });
            problems.push(...verdict.problems);
            if (verdict.ok) evidence.push(`ok   ${where}: ${verdict.evidence.join("; ")}`);
        }
        const untrusted = missingRoots(secrets.trusted ?? [], allRoots);
        if (untrusted.length > 0) problems.push(`ROOTCA does not trust ${untrusted.join(", ")}`);
    }
    for (const problem of problems) evidence.push(`FAIL ${where}: ${problem}`);
    return problems;
}

interface SpireBundle {
    trust_domain?: string;
    x509_authorities?: { asn1?: string }[];
}

/** Federated bundles from `spire-server bundle list -output json`, by trust domain. */
export function parseBundleList(text: string): Map<string, X509Certificate[]> {
    const document = JSON.parse(text) as { bundles?: SpireBundle[] };
    const bundles = new Map<string, X509Certificate[]>();
    for (const bundle of document.bundles ?? []) {
        if (!bundle.trust_domain) continue;
        const name = bundle.trust_domain.replace(/^spiffe:\/\//, "");
        bundles.set(
            name,
            (bundle.x509_authorities ?? []).filter((a) => a.asn1).map((authority) => new X509Certificate(Buffer.from(authority.asn1!, "base64"))),
        );
    }
    return bundles;
}

/**
 * The SPIRE server image's CLI, on the server's private API socket (where the hardened chart puts
 * it, also the CLI's default): federated bundles as JSON, each with its X.509 authorities.
 */
export const spireServerCommand = ["/opt/spire/bin/spire-server", "bundle", "list", "-socketPath", "/tmp/spire-server/private/api.sock", "-output", "json"];

const federation: CheckDefinition = {
    title: "every SPIRE server holds every peer's bundle",
    run: (context) =>
        converge(context, async () => {
            const evidence: string[] = [];
            let problems = 0;
            const fail = (line: string): void => {
                problems++;
                evidence.push(`FAIL ${line}`);
            };
            for (const domain of context.target.domains) {
                const access = accessOf(context, domain);
                const peers = context.target.domains.filter((other) => other.name !== domain.name);
                const federations = await access.listCustomObjects({ group: "spire.spiffe.io", version: "v1alpha1", plural: "clusterfederatedtrustdomains" });
                const declared = new Map(
                    federations.map((item) => [
                        String((item.spec as Record<string, unknown> | undefined)?.trustDomain ?? ""),
                        String((item.metadata as Record<string, unknown> | undefined)?.name ?? "?"),
                    ]),
                );
                const pods = servingPods(await access.listPods(context.settings.spireNamespace, "app.kubernetes.io/name=server"));
                if (pods.length === 0) {
                    fail(`${domain.name}: no running SPIRE server pod in ${context.settings.spireNamespace}`);
                    continue;
                }
                const result = await access.execInPod(pods[0].namespace, pods[0].name, "spire-server", spireServerCommand, 30_000);
                if (result.exitCode !== 0) {
                    fail(`${domain.name}: spire-server bundle list failed (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 160)}`);
                    continue;
                }
                const bundles = parseBundleList(result.stdout);
                for (const peer of peers) {
                    const where = `${domain.name} (${domain.trustDomain}) -> ${peer.trustDomain}`;
                    const cftd = declared.get(peer.trustDomain);
                    if (!cftd) fail(`${where}: no ClusterFederatedTrustDomain`);
                    const authorities = bundles.get(peer.trustDomain);
                    if (!authorities) {
                        fail(`${where}: SPIRE server holds no bundle`);
                        continue;
                    }
                    if (peer.roots.length === 0) {
                        fail(`${where}: cannot compare, ${peer.rootsProblem ?? "peer root unknown"}`);
                        continue;
                    }
                    const root = peer.roots.find((candidate) => authorities.some((authority) => sameCertificate(authority, candidate)));
                    if (!root) {
                        fail(`${where}: bundle (${authorities.length} authorities) lacks the peer's root from the stack outputs`);
                        continue;
                    }
                    if (cftd) evidence.push(`ok   ${where}: ClusterFederatedTrustDomain ${cftd}; bundle holds root ${describeCertificate(root)}`);
                }
            }
            const pairs = context.target.domains.length * (context.target.domains.length - 1);
            return {
                pass: problems === 0,
                summary: problems === 0 ? `${pairs} federation links, each with the peer's root` : `${problems} federation problem(s) over ${pairs} links`,
                evidence,
            };
        }),
};

/** `1440h`, `719h59m30s`: a lifetime as a Go-style duration. */
export function formatDuration(seconds: number): string {
    const whole = Math.round(seconds);
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const rest = whole % 60;
    return `${hours}h${minutes ? `${minutes}m` : ""}${rest ? `${rest}s` : ""}`;
}

function isoSeconds(seconds: number): string {
    return new Date(seconds * 1000).toISOString();
}

/** istiod's Secret keys, in the cert-manager (`kubernetes.io/tls`) and in the classic plug-in layout. */
const cacertsKeys = { signing: ["tls.crt", "ca-cert.pem"], root: ["ca.crt", "root-cert.pem"] } as const;

function firstCertificate(secret: Record<string, string> | undefined, keys: readonly string[]): X509Certificate | undefined {
    const key = keys.find((candidate) => secret?.[candidate]);
    return key ? certificatesFromPem(secret![key])[0] : undefined;
}

/**
 * Asks every serving istiod of a cluster which signing certificate and root it has loaded, and
 * compares both with the Secret's. Returns the number of problems, adding a line per pod.
 */
async function istiodLoadProblems(
    access: MeshAccess,
    namespace: string,
    domain: DomainTarget,
    signing: X509Certificate | undefined,
    root: X509Certificate | undefined,
    evidence: string[],
): Promise<number> {
    const pods = servingPods(await access.listPods(namespace, istiodLabelSelector));
    if (pods.length === 0) {
        evidence.push(`FAIL ${domain.name}: no running istiod pod (${istiodLabelSelector}) in ${namespace}`);
        return 1;
    }
    // Without a certificate in the Secret there is nothing to compare with (reported already).
    if (!signing) return 0;
    let problems = 0;
    const wanted = notAfterSeconds(signing.validTo);
    for (const pod of pods) {
        const where = `${domain.name} ${pod.name}`;
        const result = await access.execInPod(pod.namespace, pod.name, istiodContainer, istiodMetricsCommand, 30_000);
        if (result.exitCode !== 0) {
            problems++;
            evidence.push(`FAIL ${where}: ${istiodMetricsCommand.join(" ")} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(0, 160)}`);
            continue;
        }
        const loaded = parseIstiodCaExpiry(result.stdout);
        if (loaded.certChain === undefined) {
            problems++;
            evidence.push(`FAIL ${where}: its metrics carry no signing-certificate expiry (istiod not running on the plugged-in cacerts?)`);
        } else if (loaded.certChain !== wanted) {
            problems++;
            evidence.push(
                `FAIL ${where}: istiod signs with an intermediate expiring ${isoSeconds(loaded.certChain)}, Secret ${namespace}/cacerts holds one expiring ${isoSeconds(wanted)}: the new intermediate is not loaded (yet)`,
            );
        } else {
            evidence.push(`ok   ${where}: istiod loaded the cacerts intermediate (expires ${isoSeconds(wanted)})`);
        }
        if (root && loaded.root !== undefined && loaded.root !== notAfterSeconds(root.validTo)) {
            problems++;
            evidence.push(`FAIL ${where}: istiod's root expires ${isoSeconds(loaded.root)}, the Secret's root ${isoSeconds(notAfterSeconds(root.validTo))}`);
        }
    }
    return problems;
}

const rotation: CheckDefinition = {
    title: "istiod's cacerts lifetime equals the configured duration, and istiod has loaded it",
    run: (context) => {
        const configured = context.settings.istiodCertDuration;
        if ("problem" in configured) {
            return Promise.resolve({ pass: false, summary: `expected cacerts lifetime unknown: ${configured.problem}`, evidence: [], attempts: 1 });
        }
        const expected = durationSeconds(configured.value);
        const tolerance = context.settings.lifetimeToleranceSeconds;
        const namespace = context.settings.istioNamespace;
        return converge(context, async () => {
            const evidence = [`expected ${configured.value} from ${configured.source}`];
            let problems = 0;
            for (const domain of context.target.domains) {
                const access = accessOf(context, domain);
                const secret = await access.getSecret(namespace, "cacerts");
                const certificate = firstCertificate(secret, cacertsKeys.signing);
                if (!certificate) {
                    problems++;
                    evidence.push(`FAIL ${domain.name}: no certificate in Secret ${namespace}/cacerts (${cacertsKeys.signing.join(" or ")})`);
                } else {
                    const lifetime = lifetimeSeconds(certificate);
                    const issuedByRoot = domain.roots.some((root) => certificate.checkIssued(root) && certificate.verify(root.publicKey));
                    const line = `${domain.name} cacerts ${certificate.validFrom} -> ${certificate.validTo} = ${formatDuration(lifetime)}${issuedByRoot ? ", issued by the domain's root" : ""}`;
                    if (Math.abs(lifetime - expected) > tolerance) {
                        problems++;
                        evidence.push(`FAIL ${line}, expected ${configured.value}`);
                    } else {
                        evidence.push(`ok   ${line}`);
                    }
                }
                const certificates = await access.listCustomObjects({ group: "cert-manager.io", version: "v1", plural: "certificates", namespace });
                const owner = certificates.find((item) => (item.spec as Record<string, unknown> | undefined)?.secretName === "cacerts");
                const duration = (owner?.spec as Record<string, unknown> | undefined)?.duration;
                if (!owner || typeof duration !== "string") {
                    problems++;
                    evidence.push(`FAIL ${domain.name}: no cert-manager Certificate with secretName cacerts and a duration in ${namespace}`);
                } else if (durationSeconds(duration) !== expected) {
                    problems++;
                    evidence.push(`FAIL ${domain.name} Certificate ${String((owner.metadata as Record<string, unknown>).name)} spec.duration ${duration}, expected ${configured.value}`);
                } else {
                    evidence.push(`ok   ${domain.name} Certificate ${String((owner.metadata as Record<string, unknown>).name)} spec.duration ${duration}`);
                }
                problems += await istiodLoadProblems(access, namespace, domain, certificate, firstCertificate(secret, cacertsKeys.root), evidence);
            }
            return {
                pass: problems === 0,
                summary: problems === 0 ? `cacerts lifetime ${configured.value} in every domain, loaded by istiod` : `${problems} problem(s) against ${configured.value}`,
                evidence,
            };
        });
    },
};

export const checks: Record<CheckId, CheckDefinition> = {
    "load-balancing": loadBalancing,
    failover,
    "north-south": northSouth,
    identity,
    federation,
    rotation,
};

/** Runs the selected checks in order, reporting progress as each starts and ends. */
export async function runChecks(context: CheckContext, ids: CheckId[], progress: (line: string) => void = () => undefined): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    for (const [index, id] of ids.entries()) {
        const definition = checks[id];
        progress(progressLine(index + 1, ids.length, id, definition.title));
        const started = context.clock.now();
        let outcome: Attempt & { attempts: number };
        try {
            outcome = await definition.run(context);
        } catch (error) {
            outcome = { pass: false, summary: `error: ${(error as Error).message}`, evidence: [], attempts: 1 };
        }
        const result: CheckResult = {
            id,
            title: definition.title,
            status: outcome.pass ? "pass" : "fail",
            summary: outcome.summary,
            evidence: outcome.evidence,
            attempts: outcome.attempts,
            durationMs: context.clock.now() - started,
        };
        progress(doneLine(result));
        results.push(result);
    }
    return results;
}
