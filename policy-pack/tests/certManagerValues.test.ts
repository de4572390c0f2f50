import { describe, expect, it } from "vitest";
import { certManagerValuesProblems, definition } from "../policies/certManagerValues";
import { UNKNOWN } from "../lib/values";
import { mutate, providerUrn, REMOVE, resource } from "./fixtures";

/** cert-manager's component as the program declares it (components/certManagerRootCA.ts). */
const certManager = resource(
    "kubernetes-cert-manager:index:CertManager",
    "cluster-1-cert-manager",
    {
        startupapicheck: { enabled: true },
        helmOptions: {
            name: "cert-manager",
            chart: "cert-manager",
            namespace: "cert-manager",
            values: { crds: { enabled: true, keep: false } },
        },
    },
    { providers: { kubernetes: providerUrn("cluster-1") } },
);
/** The same install as a plain Release (the program's previous versions). */
const release = resource(
    "kubernetes:helm.sh/v3:Release",
    "cluster-1-cert-manager",
    { chart: "cert-manager", name: "cert-manager", values: { crds: { enabled: true, keep: false }, startupapicheck: { enabled: true } } },
    { provider: providerUrn("cluster-1") },
);

describe("cert-manager-values", () => {
    it("is mandatory", () => {
        expect(definition.enforcementLevel).toBe("mandatory");
    });

    it.each([
        ["the component", certManager],
        ["a plain Release", release],
    ])("accepts %s as the program declares it", (_, valid) => {
        expect(certManagerValuesProblems(valid)).toEqual([]);
    });

    it("accepts startupapicheck left to the chart's default (enabled) in either form", () => {
        expect(certManagerValuesProblems(mutate(certManager, ["startupapicheck"], REMOVE))).toEqual([]);
        expect(certManagerValuesProblems(mutate(release, ["values", "startupapicheck"], REMOVE))).toEqual([]);
    });

    it.each([
        ["startupapicheck", { enabled: true }],
        ["installCRDs", true],
        ["webhook", { timeoutSeconds: 30 }],
    ])("flags the component's helmOptions.values.%s, which the component drops", (key, value) => {
        const problems = certManagerValuesProblems(mutate(certManager, ["helmOptions", "values", key], value));
        expect(problems).toEqual([
            `cert-manager component "cluster-1-cert-manager" sets helmOptions.values.${key}, which the component never passes to the chart (its typed argument ${key} replaces it, and removes it when unset); set the typed argument ${key} instead.`,
        ]);
    });

    it("flags startupapicheck disabled through the component's typed argument, and through a Release's values", () => {
        expect(certManagerValuesProblems(mutate(certManager, ["startupapicheck", "enabled"], false))).toEqual([
            expect.stringMatching(/^cert-manager component "cluster-1-cert-manager" disables startupapicheck, so the install completes before cert-manager's webhook answers/),
        ]);
        expect(certManagerValuesProblems(mutate(release, ["values", "startupapicheck", "enabled"], false))).toEqual([
            expect.stringMatching(/^Helm release "cert-manager" \(chart cert-manager\) in cluster "cluster-1" disables startupapicheck/),
        ]);
    });

    it("ignores other charts and a component whose values a preview does not know", () => {
        expect(certManagerValuesProblems(mutate(release, ["chart"], "spire"))).toEqual([]);
        expect(certManagerValuesProblems(mutate(certManager, ["helmOptions", "values"], UNKNOWN))).toEqual([]);
    });
});
