import { X509Certificate } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { parseStackOutputs } from "../scripts/verify/inputs";
import { isSecretOutput, resolvePlain, runProgram } from "./harness/program";
import { stackNames } from "./harness/stacks";

type IndexModule = typeof import("../index");

/** The stack outputs index.ts exports are the contract with `npm run verify` and StackReferences. */
describe.each(stackNames)("%s stack outputs", (stack) => {
    it("publish every domain's trust domain, bundle and endpoint, and kubeconfigs only as a secret", async () => {
        // index.ts runs when imported: a fresh module registry runs it again for each stack.
        const run = await runProgram(async () => {
            vi.resetModules();
            return (await import("../index")) as IndexModule;
        }, { stack });
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
});
