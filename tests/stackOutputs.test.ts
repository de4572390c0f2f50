import { X509Certificate } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { parseStackOutputs } from "../scripts/verify/inputs";
import { isSecretOutput, resolvePlain, runProgram } from "./harness/program";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { federationContractSchema, federatedDomainSchema } from "../lib/federationContract";
import { projectConfigOf, StackName, stackNames } from "./harness/stacks";

type StackOutputs = Record<string, pulumi.Output<unknown>>;

/** A peer stack not deployed yet: the stack names it, and the probe leaves it out with a warning. */
const laterPeer = { stack: "organization/spire-istio-mesh/team-z", trustDomains: ["baz.com"] };

/** Runs index.ts as the CLI would: its default export is the program; its result, the stack outputs. */
function runIndex(stack: StackName, projectConfig?: Record<string, unknown>) {
    return runProgram(async () => {
        // A fresh module registry, so each run evaluates index.ts again.
        vi.resetModules();
        const program = (await import("../index")) as unknown as { default: () => Promise<StackOutputs> };
        return program.default();
    }, { stack, projectConfig });
}

/** The stack outputs index.ts exports are the contract with `npm run verify` and StackReferences. */
describe.each(stackNames)("%s stack outputs", (stack) => {
    it("publish every domain's trust domain, bundle and endpoint, and kubeconfigs only as a secret", async () => {
        const run = await runIndex(stack);
        const exported = run.result;
        expect(await isSecretOutput(exported.kubeconfigs)).toBe(true);
        const document = (await resolvePlain({ domains: exported.domains, kubeconfigs: exported.kubeconfigs })) as {
            domains: Record<string, Record<string, unknown>>;
        };
        expect(Object.keys(document.domains)).toEqual(["cluster-1", "cluster-2"]);
        for (const [name, domain] of Object.entries(document.domains)) {
            expect(domain.bundleEndpointUrl, name).toMatch(/^https:\/\/[0-9.]+:\d+$/);
            expect(typeof domain.eastWestAddress).toBe("string");
            expect(typeof domain.ingressAddress).toBe("string");
        }

        // What verify reads from them: ordered domains, each with exactly its own root.
        const target = parseStackOutputs(document);
        expect(target.domains.map((d) => [d.name, d.trustDomain])).toEqual([
            ["cluster-1", "foo.com"],
            ["cluster-2", "bar.com"],
        ]);
        const roots = run.ofType("tls:index/selfSignedCert:SelfSignedCert");
        expect(roots).toHaveLength(2);
        for (const domain of target.domains) {
            expect(domain.rootsProblem).toBeUndefined();
            expect(domain.roots).toHaveLength(1);
            expect(domain.roots[0].subject).toBe(`CN=${domain.trustDomain} root CA`);
            expect(domain.roots[0]).toBeInstanceOf(X509Certificate);
        }
        expect(Object.keys(target.kubeconfigs).sort()).toEqual(["cluster-1", "cluster-2"]);
    });

    it("publish the federation contract in the clear and, to peer stacks, only reader credentials, as a secret", async () => {
        // Admin kubeconfigs exported on purpose, to show the reader credentials differ from them.
        const run = await runIndex(stack, { ...projectConfigOf(stack), peerStacks: [laterPeer], exportAdminKubeconfigs: "true" });
        const exported = run.result;
        expect(await isSecretOutput(exported.federation as pulumi.Output<unknown>)).toBe(false);
        expect(await isSecretOutput(exported.federationCredentials as pulumi.Output<unknown>)).toBe(true);
        const contract = federationContractSchema.parse(await resolvePlain(exported.federation));
        expect(contract.meshId).toBe("multi-mesh");
        expect(Object.keys(contract.domains)).toEqual(["cluster-1", "cluster-2"]);
        for (const [name, domain] of Object.entries(contract.domains)) {
            const published = federatedDomainSchema.parse(domain);
            expect(published.clusterName).toBe(name);
            expect(published.exposure).toBe(stack === "cluster-kind" ? "NodePort" : "LoadBalancer");
            expect(JSON.parse(published.trustBundle).keys).toHaveLength(1);
        }
        const credentials = (await resolvePlain(exported.federationCredentials)) as Record<string, Record<string, string>>;
        expect(Object.keys(credentials).sort()).toEqual(["cluster-1", "cluster-2"]);
        const admin = (await resolvePlain(exported.kubeconfigs)) as Record<string, string>;
        for (const [name, issued] of Object.entries(credentials)) {
            // Exported: the credential issued to the awaited peer stack's trust domain; the stack's
            // own domains read each other with credentials that never leave the stack.
            expect(Object.keys(issued).sort()).toEqual(["baz.com"]);
            for (const [reader, text] of Object.entries(issued)) {
                const kubeconfig = parse(text) as { users: { user: Record<string, unknown> }[]; clusters: { cluster: { server: string } }[] };
                // A bearer token of the peer's own reader service account, nothing else: no client key, no exec plugin.
                expect(Object.keys(kubeconfig.users[0].user)).toEqual(["token"]);
                expect(kubeconfig.clusters[0].cluster.server).toBe(federatedDomainSchema.parse(contract.domains[name]).apiServerUrl);
                expect(text).not.toBe(admin[name]);
                const payload = JSON.parse(Buffer.from(String(kubeconfig.users[0].user.token).split(".")[1], "base64").toString("utf8"));
                // The token of that cluster's service-account-token Secret for this reader, and of no other account.
                const tokenSecrets = run
                    .ofType("kubernetes:core/v1:Secret")
                    .filter(
                        (r) =>
                            r.inputs.type === "kubernetes.io/service-account-token" &&
                            r.name.startsWith(`${name}-`) &&
                            r.inputs.metadata.annotations["kubernetes.io/service-account.name"] === `peer-reader-${reader}`,
                    );
                expect(tokenSecrets).toHaveLength(1);
                expect(payload["mock/resource"]).toBe(tokenSecrets[0].name);
                expect(payload.sub).toBe(`system:serviceaccount:istio-system:peer-reader-${reader}`);
            }
        }
    });

    it("without peer stacks, hand out no peer credential, and the admin kubeconfigs unless exportAdminKubeconfigs is false", async () => {
        expect(Object.keys((await runIndex(stack)).result).sort()).toEqual(["domains", "federation", "kubeconfigs"]);
        const withoutAdmin = await runIndex(stack, { ...projectConfigOf(stack), exportAdminKubeconfigs: false });
        expect(Object.keys(withoutAdmin.result).sort()).toEqual(["domains", "federation"]);
    });

    it.each([
        ["left unset", undefined, ["domains", "federation", "federationCredentials"]],
        ["the declared default (empty)", "", ["domains", "federation", "federationCredentials"]],
        ["false", "false", ["domains", "federation", "federationCredentials"]],
        ["true, explicitly", "true", ["domains", "federation", "federationCredentials", "kubeconfigs"]],
    ])("with peer stacks, export the admin kubeconfigs only when the owner says so: exportAdminKubeconfigs %s", async (_, value, outputs) => {
        const config = { ...projectConfigOf(stack), peerStacks: [laterPeer], ...(value === undefined ? {} : { exportAdminKubeconfigs: value }) };
        expect(Object.keys((await runIndex(stack, config)).result).sort()).toEqual(outputs);
    });
});
