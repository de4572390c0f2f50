import { describe, expect, it } from "vitest";
import { effectiveConfig } from "../lib/definition";
import { goDurationSeconds } from "../lib/durations";
import { definition as cacertsDefinition, istiodCacertsProblems } from "../policies/istiodCacerts";
import { definition as rootDefinition, rootCaProblems } from "../policies/rootCaLifetime";
import { kubernetesObject, mutate, REMOVE, resource } from "./fixtures";

describe("Go durations", () => {
    it.each([
        ["2160h", 2160 * 3600],
        ["1h30m", 5400],
        ["2160h0m0s", 2160 * 3600],
        ["1.5h", 5400],
        ["90m", 5400],
        ["300ms", 0.3],
        ["0", 0],
    ])("reads %s", (text, seconds) => {
        expect(goDurationSeconds(text)).toBeCloseTo(seconds);
    });

    it.each(["", "90d", "1 h", "h", "2160"])("rejects %j", (text) => {
        expect(goDurationSeconds(text)).toBeUndefined();
    });
});

describe("root-ca-lifetime", () => {
    const config = effectiveConfig(rootDefinition);
    const root = resource("tls:index/selfSignedCert:SelfSignedCert", "cluster-1-root-ca", {
        privateKeyPem: "(secret)",
        isCaCertificate: true,
        validityPeriodHours: 87600,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        subject: { commonName: "foo.com root CA" },
    });

    it("requires a year (8760h) by default", () => {
        expect(config.minimumValidityHours).toBe(8760);
    });

    it("accepts a ten-year CA root, and one of exactly a year", () => {
        expect(rootCaProblems(root, config)).toEqual([]);
        expect(rootCaProblems(mutate(root, ["validityPeriodHours"], 8760), config)).toEqual([]);
    });

    it.each([
        ["a lifetime under a year", ["validityPeriodHours"], 8759, "is valid for 8759h, less than 8760h; set validityPeriodHours to at least 8760"],
        ["no lifetime", ["validityPeriodHours"], REMOVE, "is valid for an unset period, less than 8760h"],
        ["no CA flag", ["isCaCertificate"], false, "is not a CA certificate; set isCaCertificate: true"],
        ["no cert_signing use", ["allowedUses"], ["digital_signature"], 'may not sign certificates; add "cert_signing" to allowedUses'],
    ])("flags a root with %s", (_, path, value, message) => {
        const problems = rootCaProblems(mutate(root, path, value), config);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^Root CA certificate "cluster-1-root-ca" /);
        expect(problems[0]).toContain(message);
    });

    it("ignores other resources", () => {
        expect(rootCaProblems(resource("tls:index/privateKey:PrivateKey", "k", { algorithm: "ECDSA" }), config)).toEqual([]);
    });
});

describe("istiod-cacerts-rotation", () => {
    const config = effectiveConfig(cacertsDefinition);
    const cacerts = kubernetesObject("cert-manager.io/v1", "Certificate", "istiod-cacerts", {
        metadata: { name: "cacerts", namespace: "istio-system" },
        spec: {
            secretName: "cacerts",
            isCA: true,
            duration: "1440h",
            renewBefore: "360h",
            commonName: "istiod.istio-system.svc",
            issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "cluster-1-root-ca" },
        },
    });

    it("allows at most 90 days (cert-manager's own default, 2160h) for Secret cacerts in istio-system by default", () => {
        expect(config).toEqual({ maximumDurationHours: 2160, secretName: "cacerts", istioNamespace: "istio-system" });
    });

    it.each([
        ["the seed's 60 days", {}],
        ["exactly 90 days", { duration: "2160h" }],
        ["90 days in minutes", { duration: "129600m", renewBefore: "720h" }],
        ["cert-manager's defaults (no duration, no renewBefore)", { duration: REMOVE, renewBefore: REMOVE }],
        ["a renewal percentage instead", { renewBefore: REMOVE, renewBeforePercentage: 25 }],
    ])("accepts %s", (_, changes) => {
        let certificate = cacerts;
        for (const [key, value] of Object.entries(changes)) certificate = mutate(certificate, ["spec", key], value);
        expect(istiodCacertsProblems(certificate, config)).toEqual([]);
    });

    it.each([
        ["a lifetime over 90 days", ["spec", "duration"], "2161h", "lives 2161h, longer than 2160h (90 days); set spec.duration to at most 2160h"],
        ["a year", ["spec", "duration"], "8760h", "lives 8760h, longer than 2160h"],
        ["a malformed duration", ["spec", "duration"], "60d", 'spec.duration "60d" is not a positive Go duration'],
        ["renewBefore equal to the lifetime", ["spec", "renewBefore"], "1440h", "renews 1440h before expiry, not less than its whole lifetime"],
        ["renewBefore over the lifetime", ["spec", "renewBefore"], "2000h", "set spec.renewBefore shorter than spec.duration"],
        ["a malformed renewBefore", ["spec", "renewBefore"], "15 days", 'spec.renewBefore "15 days" is not a positive Go duration'],
        ["a renewal percentage of 100", ["spec", "renewBeforePercentage"], 100, "spec.renewBeforePercentage 100 is not a percentage strictly between 0 and 100"],
        ["no CA flag", ["spec", "isCA"], false, "is not a CA; set spec.isCA: true"],
        ["another namespace", ["metadata", "namespace"], "cert-manager", "lands in namespace cert-manager, where istiod does not read it; declare it in istio-system"],
    ])("flags the cacerts Certificate with %s", (_, path, value, message) => {
        const problems = istiodCacertsProblems(mutate(cacerts, path, value), config);
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^Certificate "cacerts" in cluster "cluster-1" \(istiod cacerts\) /);
        expect(problems[0]).toContain(message);
    });

    it("judges renewBefore against cert-manager's default lifetime when duration is unset", () => {
        const noDuration = mutate(cacerts, ["spec", "duration"], REMOVE);
        expect(istiodCacertsProblems(mutate(noDuration, ["spec", "renewBefore"], "2160h"), config)).toEqual([
            expect.stringContaining("not less than its whole lifetime"),
        ]);
    });

    it("leaves other Certificates alone", () => {
        const other = mutate(mutate(cacerts, ["spec", "secretName"], "webhook-tls"), ["spec", "duration"], "8760h");
        expect(istiodCacertsProblems(other, config)).toEqual([]);
    });
});
