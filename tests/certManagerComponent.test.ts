import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { certManagerValues } from "../components/certManagerRootCA";
import { certManagerTypedValueKeys, helmValuesTheComponentOverrides, valuesTheComponentReleases } from "../lib/certManagerComponent";
import { validateChartValuesSchema } from "./harness/schemas";

/**
 * The component's inputs as its Node.js SDK (generated from the provider's schema) sends them:
 * every key it puts in `resourceInputs`, read from the installed package rather than retyped.
 */
function sdkInputKeys(): string[] {
    const source = readFileSync(require.resolve("@pulumi/kubernetes-cert-manager/certManager.js"), "utf8");
    return [...source.matchAll(/resourceInputs\["([^"]+)"\] = args \? args\./g)].map((match) => match[1]);
}

describe("what @pulumi/kubernetes-cert-manager 0.2.0 makes of its values", () => {
    it("knows every typed argument the installed SDK sends besides helmOptions", () => {
        const typed = sdkInputKeys().filter((key) => key !== "helmOptions");
        expect(typed.length).toBeGreaterThan(20);
        expect([...certManagerTypedValueKeys].sort()).toEqual(typed.sort());
    });

    it("passes keys without a typed argument through, replaces a key by its typed argument, and drops it when that is unset", () => {
        const helmValues = { crds: { enabled: true }, startupapicheck: { enabled: false }, webhook: { replicaCount: 3 } };
        expect(valuesTheComponentReleases({ typed: { startupapicheck: { enabled: true } }, helmValues })).toEqual({
            crds: { enabled: true },
            startupapicheck: { enabled: true },
        });
        // The input map is not changed.
        expect(helmValues.webhook).toEqual({ replicaCount: 3 });
        expect(helmValuesTheComponentOverrides(helmValues).sort()).toEqual(["startupapicheck", "webhook"]);
        expect(helmValuesTheComponentOverrides({ crds: {} })).toEqual([]);
    });

    it.each([true, false])("sends this program's values (keep CRDs %s) where the component keeps them, valid for the chart", (keepCrdsOnDestroy) => {
        const { typed, helmValues } = certManagerValues({ keepCrdsOnDestroy });
        expect(helmValuesTheComponentOverrides(helmValues)).toEqual([]);
        const sent = valuesTheComponentReleases({ typed, helmValues });
        expect(sent).toEqual({ crds: { enabled: true, keep: keepCrdsOnDestroy }, startupapicheck: { enabled: true } });
        expect(validateChartValuesSchema("cert-manager", sent)).toEqual([]);
    });
});
