import { createHash, X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { checkDescriptions, helpText, parseArgs, UsageError } from "../scripts/verify/args";
import { checkSvidChain, lifetimeSeconds, missingRoots } from "../scripts/verify/chain";
import { curlBatchCommand, describeSummary, parseCurlBatch, summarizeReplies } from "../scripts/verify/curl";
import { proxySecretsFromConfigDump } from "../scripts/verify/envoy";
import { CommandRunner, loadIstiodCertDuration, loadStackOutputs, parseStackOutputs } from "../scripts/verify/inputs";
import { notAfterSeconds, parseIstiodCaExpiry } from "../scripts/verify/istiod";
import { aggregate, CheckResult, checkIds, exitCodeOf, renderJson, renderTable } from "../scripts/verify/report";
import {
    certificatesFromPem,
    describeCertificate,
    parseSpiffeId,
    parseWorkloadSpiffeId,
    sameCertificate,
    uriSans,
    x509AuthoritiesOfBundle,
} from "../scripts/verify/spiffe";
import { generateTestKeyPair, issueCertificate } from "./harness/certificates";
import { cacertsCertificate, DomainPki, domainPki, secretsConfigDump, svid } from "./verifyFixtures";

const cert = (pem: string) => new X509Certificate(pem);

describe("SPIFFE IDs", () => {
    it("parses IDs per the SPIFFE-ID spec and rejects what the spec forbids", () => {
        expect(parseSpiffeId("spiffe://foo.com/ns/sleep/sa/sleep")).toEqual({ trustDomain: "foo.com", path: "/ns/sleep/sa/sleep" });
        expect(parseSpiffeId("spiffe://foo.com")).toEqual({ trustDomain: "foo.com", path: "" });
        for (const bad of [
            "https://foo.com/ns/a/sa/b",
            "spiffe://Foo.com/ns/a",
            "spiffe://foo.com:8443/ns/a",
            "spiffe://user@foo.com/ns/a",
            "spiffe://foo.com/ns//sa/b",
            "spiffe://foo.com/ns/./sa",
            "spiffe://foo.com/ns/../sa",
            "spiffe://foo.com/ns/a?x=1",
            "spiffe://foo.com/ns/a#frag",
            "spiffe://foo.com/",
            "spiffe:///ns/a",
        ]) {
            expect(parseSpiffeId(bad), bad).toBeUndefined();
        }
    });

    it("reads the namespace and service account of a workload ID", () => {
        expect(parseWorkloadSpiffeId("spiffe://bar.com/ns/default/sa/bookinfo-productpage")).toEqual({
            trustDomain: "bar.com",
            namespace: "default",
            serviceAccount: "bookinfo-productpage",
        });
        expect(parseWorkloadSpiffeId("spiffe://bar.com/spire/server")).toBeUndefined();
        expect(parseWorkloadSpiffeId("spiffe://bar.com/ns/a/sa/b/extra")).toBeUndefined();
    });

    it("lists URI SANs of a real certificate, decoding Node's quoted entries", async () => {
        const key = generateTestKeyPair("rsa-2048");
        const pem = await issueCertificate({
            subject: "CN=x",
            subjectKeyPem: key.privateKeyPem,
            isCa: false,
            validityHours: 1,
            uris: ["spiffe://foo.com/ns/a/sa/b", "https://example.test/a,b"],
            dnsNames: ["helloworld.helloworld.svc"],
        });
        expect(uriSans(cert(pem))).toEqual(["spiffe://foo.com/ns/a/sa/b", "https://example.test/a,b"]);
    });

    it("reads the roots of a SPIFFE bundle as the program publishes it", async () => {
        const pki = await domainPki("foo.com");
        const roots = x509AuthoritiesOfBundle(pki.bundleJson);
        expect(roots).toHaveLength(1);
        expect(roots[0].raw.equals(cert(pki.root.certificatePem).raw)).toBe(true);
        expect(() => x509AuthoritiesOfBundle("{}")).toThrow(/no keys/);
    });
});

describe("SVID chain check", () => {
    let foo: DomainPki;
    let bar: DomainPki;
    const id = "spiffe://foo.com/ns/helloworld/sa/helloworld";
    beforeAll(async () => {
        foo = await domainPki("foo.com");
        bar = await domainPki("bar.com");
    });
    const roots = () => [cert(foo.root.certificatePem)];

    it("accepts leaf -> SPIRE intermediate -> the domain's root, with or without the root served", async () => {
        const leaf = await svid(foo.spireCa, [id]);
        for (const chain of [[leaf, foo.spireCa.certificatePem], [leaf, foo.spireCa.certificatePem, foo.root.certificatePem]]) {
            const verdict = checkSvidChain({ chain: chain.map(cert), expectedId: id, roots: roots() });
            expect(verdict.problems).toEqual([]);
            expect(verdict.ok).toBe(true);
            expect(verdict.evidence.join("\n")).toContain(`leaf URI SAN ${id}`);
            expect(verdict.evidence.join("\n")).toContain("URI SAN spiffe://foo.com");
        }
    });

    it("rejects istiod's fallback certificate: same root, but the issuer is not SPIRE's CA", async () => {
        const leaf = await svid(foo.istiodCa, [id]);
        const verdict = checkSvidChain({ chain: [leaf, foo.istiodCa.certificatePem].map(cert), expectedId: id, roots: roots() });
        expect(verdict.ok).toBe(false);
        expect(verdict.problems.join("\n")).toMatch(/lacks URI SAN spiffe:\/\/foo\.com: not SPIRE's intermediate/);
    });

    it("rejects a chain that ends at another domain's root", async () => {
        const leaf = await svid(bar.spireCa, ["spiffe://foo.com/ns/helloworld/sa/helloworld"]);
        const verdict = checkSvidChain({ chain: [leaf, bar.spireCa.certificatePem].map(cert), expectedId: id, roots: roots() });
        expect(verdict.ok).toBe(false);
        expect(verdict.problems.join("\n")).toMatch(/does not end at the domain's root/);
        expect(verdict.problems.join("\n")).toMatch(/lacks URI SAN spiffe:\/\/foo\.com/);
    });

    it("rejects a wrong or extra SPIFFE ID on the leaf", async () => {
        for (const ids of [["spiffe://foo.com/ns/helloworld/sa/default"], [id, "spiffe://foo.com/ns/other/sa/x"], []]) {
            const leaf = await svid(foo.spireCa, ids);
            const verdict = checkSvidChain({ chain: [leaf, foo.spireCa.certificatePem].map(cert), expectedId: id, roots: roots() });
            expect(verdict.ok, JSON.stringify(ids)).toBe(false);
            expect(verdict.problems[0]).toMatch(/leaf URI SANs .* expected exactly/);
        }
    });

    it("rejects a leaf not signed by the intermediate served with it", async () => {
        const impostor = await domainPki("foo.com");
        const leaf = await svid(impostor.spireCa, [id]);
        const verdict = checkSvidChain({ chain: [leaf, foo.spireCa.certificatePem].map(cert), expectedId: id, roots: roots() });
        expect(verdict.ok).toBe(false);
        expect(verdict.problems).toContain("certificate 0 is not signed by certificate 1");
    });

    it("rejects a leaf served alone, and certificates outside their validity", async () => {
        const leaf = await svid(foo.spireCa, [id]);
        expect(checkSvidChain({ chain: [cert(leaf)], expectedId: id, roots: roots() }).problems.join("\n")).toMatch(/no intermediate/);
        const later = new Date(Date.now() + 3 * 3600_000);
        const verdict = checkSvidChain({ chain: [leaf, foo.spireCa.certificatePem].map(cert), expectedId: id, roots: roots(), now: later });
        expect(verdict.problems.join("\n")).toMatch(/certificate 0 not valid now/);
    });

    it("names the domains whose root a trust store lacks, and measures lifetimes", async () => {
        const trusted = [cert(foo.root.certificatePem)];
        const domains = [
            { name: "foo.com", certificates: [cert(foo.root.certificatePem)] },
            { name: "bar.com", certificates: [cert(bar.root.certificatePem)] },
        ];
        expect(missingRoots(trusted, domains)).toEqual(["bar.com"]);
        expect(missingRoots([...trusted, cert(bar.root.certificatePem)], domains)).toEqual([]);
        expect(lifetimeSeconds(cert(await cacertsCertificate(foo.root, 720)))).toBe(720 * 3600);
    });
});

describe("Envoy config dump", () => {
    it("finds the workload chain and every trusted root, in Envoy's and in istioctl's field spelling", async () => {
        const foo = await domainPki("foo.com");
        const bar = await domainPki("bar.com");
        const leaf = await svid(foo.spireCa, ["spiffe://foo.com/ns/sleep/sa/sleep"]);
        const trusted = [
            { trustDomain: "foo.com", pem: foo.root.certificatePem },
            { trustDomain: "bar.com", pem: bar.root.certificatePem },
        ];
        for (const shape of ["trusted_ca", "spiffe_validator"] as const) {
            const snake = secretsConfigDump([leaf, foo.spireCa.certificatePem], trusted, shape);
            const camel = snake.replace(/"([a-z]+(?:_[a-z]+)+)"/g, (_, key: string) => `"${key.replace(/_([a-z])/g, (__, c: string) => c.toUpperCase())}"`);
            expect(camel).toContain("inlineBytes");
            for (const text of [snake, camel]) {
                const secrets = proxySecretsFromConfigDump(text);
                expect(secrets.chain?.map((c) => c.subject)).toEqual([cert(leaf).subject, cert(foo.spireCa.certificatePem).subject]);
                expect(secrets.trusted?.map((c) => c.fingerprint256).sort()).toEqual(
                    [foo.root.certificatePem, bar.root.certificatePem].map((pem) => cert(pem).fingerprint256).sort(),
                );
            }
        }
    });

    it("reports no chain when the proxy holds no `default` secret", () => {
        expect(proxySecretsFromConfigDump(JSON.stringify({ configs: [] }))).toEqual({});
    });
});

describe("curl batches", () => {
    it("builds one shell loop and refuses URLs that would need quoting", () => {
        const command = curlBatchCommand("http://helloworld.helloworld:5000/hello", 7);
        expect(command.slice(0, 2)).toEqual(["sh", "-c"]);
        expect(command[2]).toContain('-lt 7 ]');
        expect(command[2]).toContain("'http://helloworld.helloworld:5000/hello'");
        expect(() => curlBatchCommand("http://x/'; rm -rf /", 1)).toThrow(/refusing/);
        expect(() => curlBatchCommand("http://203.0.113.10:30080/hello", 0)).toThrow(/count/);
    });

    it("parses successes, HTTP errors and curl failures", () => {
        const transcript = [
            "@@verify-begin@@",
            "Hello version: v1, instance: helloworld-v1-6bb5b589d6-jq4gn",
            "",
            "@@verify-end status=200@@",
            "@@verify-begin@@",
            "no healthy upstream",
            "@@verify-end status=503@@",
            "@@verify-begin@@",
            "curl: (7) Failed to connect to 203.0.113.10 port 80 after 3 ms: Could not connect to server",
            "",
            "@@verify-end status=000@@",
            "@@verify-exit 7@@",
            "@@verify-begin@@",
            "Hello version: v2, instance: helloworld-v2-7fd66fcfdc-6shtc",
            "@@verify-end status=200@@",
        ].join("\n");
        const replies = parseCurlBatch(transcript);
        expect(replies.map((r) => [r.ok, r.status, r.version ?? null, r.curlExit ?? null])).toEqual([
            [true, 200, "v1", null],
            [false, 503, null, null],
            [false, 0, null, 7],
            [true, 200, "v2", null],
        ]);
        expect(replies[0].instance).toBe("helloworld-v1-6bb5b589d6-jq4gn");
        const summary = summarizeReplies(replies, 4);
        expect(summary).toMatchObject({ total: 4, received: 4, succeeded: 2, failed: 2, versions: { v1: 1, v2: 1 } });
        expect(summary.failures).toEqual([expect.stringMatching(/^HTTP 503: no healthy upstream/), expect.stringMatching(/^curl exit 7: curl: \(7\)/)]);
    });
});

describe("curl batches cut short", () => {
    const good = (version: string) => ["@@verify-begin@@", `Hello version: ${version}, instance: helloworld-${version}-0`, "@@verify-end status=200@@"];

    it("counts replies that never came back as failures and says how many came back", () => {
        // Five good replies, then the exec stream ended (timeout, pod gone) mid-way through the sixth.
        const transcript = [...good("v1"), ...good("v2"), ...good("v1"), ...good("v2"), ...good("v1"), "@@verify-begin@@"].join("\n");
        const summary = summarizeReplies(parseCurlBatch(transcript), 20);
        expect(summary).toMatchObject({ total: 20, received: 6, succeeded: 5, failed: 15, versions: { v1: 3, v2: 2 } });
        expect(summary.failures[0]).toBe("batch cut short: only 6 of 20 replies came back");
        expect(describeSummary(summary)).toBe("5/20 succeeded (v1: 3, v2: 2); batch cut short: only 6 of 20 replies came back");
    });

    it("says nothing about a cut when every reply came back", () => {
        const summary = summarizeReplies(parseCurlBatch([...good("v1"), ...good("v2")].join("\n")), 2);
        expect(summary).toMatchObject({ total: 2, received: 2, succeeded: 2, failed: 0 });
        expect(summary.failures).toEqual([]);
        expect(describeSummary(summary)).toBe("2/2 succeeded (v1: 1, v2: 1)");
    });
});

describe("istiod's CA gauges", () => {
    it("reads the signing-chain and root expiry istiod exports, labelled or not", () => {
        const metrics = [
            "# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when Istio generated cert chain will expire.",
            "# TYPE citadel_server_cert_chain_expiry_timestamp gauge",
            "citadel_server_cert_chain_expiry_timestamp 1.782835199e+09",
            "# TYPE citadel_server_cert_chain_expiry_seconds gauge",
            "citadel_server_cert_chain_expiry_seconds 5.18e+06",
            'citadel_server_root_cert_expiry_timestamp{cluster="cluster-1"} 2.1e+09',
        ].join("\n");
        expect(parseIstiodCaExpiry(metrics)).toEqual({ certChain: 1782835199, root: 2100000000 });
        expect(parseIstiodCaExpiry("pilot_xds 3\n")).toEqual({});
        expect(notAfterSeconds("Jul  1 12:00:00 2026 GMT")).toBe(Date.UTC(2026, 6, 1, 12) / 1000);
    });
});

describe("report", () => {
    const result = (id: (typeof checkIds)[number], status: "pass" | "fail"): CheckResult => ({
        id,
        title: `title of ${id}`,
        status,
        summary: `${id} ${status}ed`,
        evidence: [`evidence of ${id}`],
        attempts: 1,
        durationMs: 1500,
    });

    it("passes only when something ran and nothing failed", () => {
        expect(aggregate([result("identity", "pass"), result("rotation", "pass")])).toMatchObject({ ok: true, passed: 2, failed: 0 });
        const failed = aggregate([result("identity", "pass"), result("rotation", "fail")]);
        expect(failed).toMatchObject({ ok: false, passed: 1, failed: 1 });
        expect(exitCodeOf(failed)).toBe(1);
        expect(exitCodeOf(aggregate([]))).toBe(1);
        expect(exitCodeOf(aggregate([result("federation", "pass")]))).toBe(0);
    });

    it("renders a table with a row and evidence per check, and JSON machines can read back", () => {
        const report = aggregate([result("load-balancing", "pass"), result("rotation", "fail")]);
        const table = renderTable(report).split("\n");
        expect(table[0]).toMatch(/^CHECK\s+RESULT\s+TIME\s+SUMMARY$/);
        expect(table[1]).toMatch(/^load-balancing\s+PASS\s+1\.5s\s+load-balancing passed$/);
        expect(table[2]).toBe("    - evidence of load-balancing");
        expect(table[3]).toMatch(/^rotation\s+FAIL\s+1\.5s\s+rotation failed$/);
        expect(table.at(-1)).toBe("1 of 2 checks failed.");
        expect(JSON.parse(renderJson(report))).toEqual(report);
    });
});

describe("arguments", () => {
    const options = (argv: string[]) => {
        const parsed = parseArgs(argv);
        if (parsed.help) throw new Error("unexpected help");
        return parsed.options;
    };

    it("defaults to every check in order against a stack", () => {
        expect(options(["--stack", "cluster-kind"])).toMatchObject({
            stack: "cluster-kind",
            checks: ["load-balancing", "failover", "north-south", "identity", "federation", "rotation"],
            requests: 20,
            timeoutSeconds: 180,
            json: false,
            spireNamespace: "spire-server",
            istioNamespace: "istio-system",
        });
    });

    it("takes contexts per domain, inline values, and runs selected checks in the documented order", () => {
        const parsed = options([
            "--outputs=out.json",
            "--kubeconfig-context",
            "cluster-1=kind-cluster-1",
            "--kubeconfig-context=cluster-2=kind-cluster-2",
            "--checks",
            "rotation,identity",
            "--json",
            "--requests",
            "5",
            "--istiod-cert-duration",
            "720h",
        ]);
        expect(parsed).toMatchObject({
            outputsFile: "out.json",
            contexts: { "cluster-1": "kind-cluster-1", "cluster-2": "kind-cluster-2" },
            checks: ["identity", "rotation"],
            json: true,
            requests: 5,
            istiodCertDuration: "720h",
        });
    });

    it("rejects what it cannot run, naming the problem", () => {
        const cases: [string[], RegExp][] = [
            [[], /exactly one of --stack/],
            [["--stack", "a", "--outputs", "b"], /exactly one of --stack/],
            [["--stack"], /--stack needs a value/],
            [["--stack", "a", "--checks", "identity,dns"], /unknown: dns/],
            [["--stack", "a", "--requests", "0"], /positive integer/],
            [["--stack", "a", "--timeout", "1m"], /positive integer/],
            [["--stack", "a", "--istiod-cert-duration", "30d"], /duration such as 720h/],
            [["--stack", "a", "--kubeconfig-context", "cluster-1"], /<domain>=<context>/],
            [["--stack", "a", "--kubeconfig", "k"], /only applies together/],
            [["--stack", "a", "--verbose"], /unknown argument/],
        ];
        for (const [argv, message] of cases) {
            expect(() => parseArgs(argv), argv.join(" ")).toThrow(UsageError);
            expect(() => parseArgs(argv), argv.join(" ")).toThrow(message);
        }
    });

    it("documents every check in --help", () => {
        expect(parseArgs(["--stack", "x", "--help"])).toEqual({ help: true });
        const flattened = helpText.replace(/\s+/g, " ");
        for (const [index, id] of checkIds.entries()) {
            expect(helpText).toContain(`${index + 1}. ${id}\n`);
            expect(flattened).toContain(checkDescriptions[id].replace(/\s+/g, " "));
        }
    });
});

describe("stack outputs", () => {
    let foo: DomainPki;
    let bar: DomainPki;
    beforeAll(async () => {
        foo = await domainPki("foo.com");
        bar = await domainPki("bar.com");
    });

    it("orders domains by their index output, reads roots, ingress and kubeconfigs", () => {
        // Keys as `pulumi stack output --json` prints them: sorted, whatever the config order.
        const document = {
            domains: {
                alpha: { index: 1, trustDomain: "bar.com", trustBundle: bar.bundleJson, ingressAddress: "172.18.0.3:30080" },
                zulu: { index: 0, trustDomain: "foo.com", trustBundle: foo.bundleJson, ingressAddress: "172.18.0.2:30080" },
            },
            kubeconfigs: { alpha: "kubeconfig-a", zulu: "kubeconfig-z" },
        };
        const target = parseStackOutputs(document);
        expect(target.domains.map((d) => [d.name, d.trustDomain, d.ingressAddress])).toEqual([
            ["zulu", "foo.com", "172.18.0.2:30080"],
            ["alpha", "bar.com", "172.18.0.3:30080"],
        ]);
        expect(target.domains[0].roots[0].raw.equals(cert(foo.root.certificatePem).raw)).toBe(true);
        expect(target.kubeconfigs).toEqual({ alpha: "kubeconfig-a", zulu: "kubeconfig-z" });
    });

    it("says why a domain's roots are unknown instead of failing the whole run", () => {
        const target = parseStackOutputs({
            domains: { "cluster-1": { trustDomain: "foo.com" }, "cluster-2": { trustDomain: "bar.com", trustBundle: "[secret]" } },
            kubeconfigs: { "cluster-1": "[secret]" },
        });
        expect(target.domains.map((d) => d.rootsProblem)).toEqual([
            "stack output domains.cluster-1.trustBundle is missing",
            "domains.cluster-2.trustBundle is hidden; read outputs with --show-secrets",
        ]);
        expect(target.kubeconfigs).toEqual({});
        expect(() => parseStackOutputs({ domains: { a: { trustDomain: "foo.com" } } })).toThrow(/at least two domains/);
        expect(() => parseStackOutputs({})).toThrow(/no `domains`/);
    });

    it("asks the Pulumi CLI for outputs with secrets and for the configured istiod duration", async () => {
        const calls: string[][] = [];
        const runner =
            (answers: Record<string, { stdout: string; code: number }>): CommandRunner =>
            async (file, args) => {
                calls.push([file, ...args]);
                const answer = answers[args[0]] ?? { stdout: "", code: 1 };
                return { ...answer, stderr: answer.code ? "error: configuration key not found" : "" };
            };
        const outputs = JSON.stringify({ domains: { "cluster-1": { trustDomain: "foo.com" }, "cluster-2": { trustDomain: "bar.com" } } });
        const target = await loadStackOutputs("cluster-kind", runner({ stack: { stdout: outputs, code: 0 } }));
        expect(target.domains.map((d) => d.name)).toEqual(["cluster-1", "cluster-2"]);
        expect(calls[0]).toEqual(["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "cluster-kind"]);

        expect(await loadIstiodCertDuration("cluster-kind", runner({ config: { stdout: "720h\n", code: 0 } }))).toEqual({
            value: "720h",
            source: "stack cluster-kind config spire-istio-mesh:istiodCertDuration",
        });
        expect(calls[1]).toEqual(["pulumi", "config", "get", "spire-istio-mesh:istiodCertDuration", "--stack", "cluster-kind"]);
        await expect(loadStackOutputs("nope", runner({}))).rejects.toThrow(/pulumi stack output failed \(exit 1\)/);
    });

    it("reports a failing or nonsensical `pulumi config get` instead of assuming the default", async () => {
        const answer =
            (stdout: string, code: number, stderr: string): CommandRunner =>
            async () => ({ stdout, stderr, code });
        expect(await loadIstiodCertDuration("cluster-kind", answer("", 255, "error: no Pulumi.yaml project file found (searching upwards from /tmp)\n"))).toEqual({
            problem: "pulumi config get spire-istio-mesh:istiodCertDuration --stack cluster-kind failed (exit 255): error: no Pulumi.yaml project file found (searching upwards from /tmp)",
        });
        expect(await loadIstiodCertDuration("cluster-kind", answer("", 255, ""))).toEqual({
            problem: expect.stringMatching(/failed \(exit 255\): \(no stderr\)$/),
        });
        expect(await loadIstiodCertDuration("cluster-kind", answer("soon\n", 0, ""))).toEqual({
            problem: 'pulumi config get spire-istio-mesh:istiodCertDuration --stack cluster-kind printed "soon", not a duration such as 720h',
        });
        // The CLI prints environment diagnostics after the value and a blank line.
        expect(await loadIstiodCertDuration("cluster-kind", answer("720h\n\nEnvironment diagnostics:\n  warning\n", 0, ""))).toMatchObject({ value: "720h" });
    });

    it("reads the PEM blocks of a certificate file in order", async () => {
        const text = `${foo.root.certificatePem}\n${bar.root.certificatePem}`;
        expect(certificatesFromPem(text).map((c) => c.subject)).toEqual(["CN=foo.com root", "CN=bar.com root"]);
    });
});

/**
 * What StrykerJS found no test for in scripts/verify/spiffe.ts (docs/performance.md): bundles
 * holding other keys, certificates without SANs, text without certificates, and the names
 * evidence lines give certificates. Expected values are written out or computed here with
 * node:crypto, never taken from the code under test.
 */
describe("SPIFFE helpers at their edges", () => {
    let foo: DomainPki;
    let bar: DomainPki;
    beforeAll(async () => {
        foo = await domainPki("foo.com");
        bar = await domainPki("bar.com");
    });
    const der = (pem: string) => cert(pem).raw.toString("base64");

    it("takes from a bundle the first certificate of each x509-svid key only, as text or as an object", () => {
        const bundle = {
            keys: [
                { use: "jwt-svid", kty: "EC", kid: "jwt-1", x5c: [der(bar.root.certificatePem)] },
                { use: "x509-svid", kty: "EC", x5c: [der(foo.root.certificatePem), der(bar.root.certificatePem)] },
                { use: "x509-svid", kty: "EC" },
                { use: "x509-svid", kty: "EC", x5c: [] },
                { kty: "EC", x5c: [der(bar.root.certificatePem)] },
            ],
        };
        for (const form of [bundle, JSON.stringify(bundle)]) {
            expect(x509AuthoritiesOfBundle(form).map((c) => c.raw.toString("base64"))).toEqual([der(foo.root.certificatePem)]);
        }
        expect(() => x509AuthoritiesOfBundle({ keys: "none" })).toThrow("not a SPIFFE bundle: no keys[]");
    });

    it("finds no URI SAN in a certificate without SANs, and only URI entries among DNS ones", async () => {
        expect(uriSans(cert(foo.root.certificatePem))).toEqual([]);
        const key = generateTestKeyPair("ecdsa-p256");
        const pem = await issueCertificate({
            subject: "CN=y",
            subjectKeyPem: key.privateKeyPem,
            isCa: false,
            validityHours: 1,
            dnsNames: ["a.example", "b.example"],
            uris: ["spiffe://bar.com/ns/x/sa/y"],
        });
        expect(uriSans(cert(pem))).toEqual(["spiffe://bar.com/ns/x/sa/y"]);
    });

    it("finds no certificate in text without PEM blocks", () => {
        expect(certificatesFromPem("")).toEqual([]);
        expect(certificatesFromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")).toEqual([]);
    });

    it("names a certificate by its subject and the first 16 hex digits of its SHA-256 fingerprint", () => {
        const root = cert(foo.root.certificatePem);
        const fingerprint = createHash("sha256").update(root.raw).digest("hex").slice(0, 16);
        expect(describeCertificate(root)).toBe(`CN=foo.com root [sha256 ${fingerprint}]`);
        expect(sameCertificate(root, cert(foo.root.certificatePem))).toBe(true);
        expect(sameCertificate(root, cert(bar.root.certificatePem))).toBe(false);
    });

    it("refuses an ID with text before the scheme or a path segment with characters the spec does not allow", () => {
        for (const bad of ["xspiffe://foo.com/ns/a/sa/b", "spiffe://foo.com/ns/a:b/sa/c", "spiffe://foo.com/ns/a%20b", "spiffe://foo.com/ns/@a"]) {
            expect(parseSpiffeId(bad), bad).toBeUndefined();
        }
        expect(parseWorkloadSpiffeId("spiffe://bar.com/extra/ns/a/sa/b")).toBeUndefined();
    });

    it("reads a workload ID only when both namespace and service account are there", () => {
        expect(parseWorkloadSpiffeId("spiffe://bar.com/ns/a")).toBeUndefined();
        expect(parseWorkloadSpiffeId("spiffe://bar.com/sa/b")).toBeUndefined();
        expect(parseWorkloadSpiffeId("https://bar.com/ns/a/sa/b")).toBeUndefined();
        expect(parseWorkloadSpiffeId("spiffe://bar.com/ns/a/sa/b")).toEqual({ trustDomain: "bar.com", namespace: "a", serviceAccount: "b" });
    });
});
