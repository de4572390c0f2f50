import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { c as createTar } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pickPaths, plainDocuments, refreshFacts, stripSchema, valueTypes } from "../scripts/upstream-facts/extract";
import { CrdFacts, factsFiles, factsFolderName, factsSets, requiredFiles, ValuesFacts } from "../scripts/upstream-facts/layout";
import { defaultVersions, Versions } from "../versions";

describe("fact extraction, piece by piece", () => {
    it("drops prose and unread keywords from a schema, but not a property named like one", () => {
        const schema = {
            type: "object",
            description: "prose",
            properties: {
                description: { type: "string", description: "a field called description" },
                mode: { type: "string", enum: ["description", "default"], default: "default" },
                list: { type: "array", items: { type: "integer", description: "x" } },
                either: { anyOf: [{ type: "string", description: "y" }, { type: "integer" }] },
            },
            additionalProperties: { type: "string", title: "z" },
            "x-kubernetes-validations": [{ rule: "self.mode != ''", message: "prose" }],
            required: ["mode"],
        };
        expect(stripSchema(schema)).toEqual({
            type: "object",
            properties: {
                description: { type: "string" },
                mode: { type: "string", enum: ["description", "default"] },
                list: { type: "array", items: { type: "integer" } },
                either: { anyOf: [{ type: "string" }, { type: "integer" }] },
            },
            additionalProperties: { type: "string" },
            required: ["mode"],
        });
    });

    it("keeps every value path with its type; an empty map stays open and a list is a leaf", () => {
        expect(valueTypes({ a: { b: 1, c: "x", d: true, e: null }, f: {}, g: [{ h: 1 }] })).toEqual({
            a: { b: "number", c: "string", d: "boolean", e: "null" },
            f: {},
            g: "array",
        });
    });

    it("picks only the named fields, walking every list item with *", () => {
        const deployment = {
            metadata: { name: "d", labels: { drop: "me" } },
            spec: { template: { spec: { containers: [{ image: "i1", name: "n" }, { image: "i2", args: ["x"] }] } } },
        };
        expect(pickPaths(deployment, [["metadata", "name"], ["spec", "template", "spec", "containers", "*", "image"], ["absent"]])).toEqual({
            metadata: { name: "d" },
            spec: { template: { spec: { containers: [{ image: "i1" }, { image: "i2" }] } } },
        });
    });

    it("reads a Helm template of plain manifests without its whole-line actions, and refuses inline ones", () => {
        const template = ["{{- if .Values.crds.enabled }}", "kind: CustomResourceDefinition", "metadata:", "  labels:", "    {{- include \"x\" . | nindent 4 }}", "spec: {}", "{{- end }}"].join("\n");
        expect(plainDocuments(template, "t.yaml")).toEqual([{ kind: "CustomResourceDefinition", metadata: { labels: null }, spec: {} }]);
        expect(() => plainDocuments("kind: CustomResourceDefinition\nname: {{ .Release.Name }}\n", "u.yaml")).toThrow(/u\.yaml: a template action inside a line/);
    });
});

/** A cert-manager chart source as the upstream repository lays it out (placeholder version). */
function writeCertManagerChart(dir: string, chartVersion: string): void {
    const crd = (kind: string, plural: string, scope: string) =>
        [
            "{{- if .Values.crds.enabled }}",
            "apiVersion: apiextensions.k8s.io/v1",
            "kind: CustomResourceDefinition",
            "metadata:",
            `  name: "${plural}.cert-manager.io"`,
            "  labels:",
            "    {{- include \"cert-manager.crd-labels\" . | nindent 4 }}",
            "spec:",
            "  group: cert-manager.io",
            `  names: { kind: ${kind}, plural: ${plural} }`,
            `  scope: ${scope}`,
            "  versions:",
            "    - name: v1",
            "      served: true",
            "      schema:",
            "        openAPIV3Schema:",
            "          type: object",
            "          description: prose to drop",
            "          properties:",
            "            spec: { type: object, properties: { secretName: { type: string, description: more prose } } }",
            "    - name: v1alpha1",
            "      served: false",
            "      schema: { openAPIV3Schema: { type: object } }",
            "{{- end }}",
        ].join("\n");
    const files: Record<string, string> = {
        "Chart.yaml": `apiVersion: v2\nname: cert-manager\nversion: ${chartVersion}\n`,
        "values.yaml": "# a comment\ncrds:\n  enabled: false # another\nreplicaCount: 1\n",
        "values.schema.json": JSON.stringify({ type: "object", properties: { replicaCount: { type: "number", description: "prose", default: 1 } } }),
        "templates/crd-cert-manager.io_certificates.yaml": crd("Certificate", "certificates", "Namespaced"),
        "templates/crd-cert-manager.io_issuers.yaml": crd("Issuer", "issuers", "Namespaced"),
        "templates/crd-cert-manager.io_clusterissuers.yaml": crd("ClusterIssuer", "clusterissuers", "Cluster"),
        "templates/deployment.yaml": "kind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
    };
    for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
    }
}

describe("refreshing the facts from chart sources", () => {
    let scratch = "";
    beforeEach(() => {
        scratch = mkdtempSync(join(tmpdir(), "facts-extract-"));
    });
    afterEach(() => rmSync(scratch, { recursive: true, force: true }));

    /** A facts root where every release but cert-manager already has (placeholder) facts. */
    function factsRootWithOthers(versions: Versions): string {
        const root = join(scratch, "facts");
        for (const spec of factsSets.filter((s) => s.pin !== "certManager")) {
            const folder = join(root, factsFolderName(spec, versions[spec.pin]));
            mkdirSync(folder, { recursive: true });
            for (const file of requiredFiles(spec)) writeFileSync(join(folder, file), "{}");
        }
        return root;
    }

    it("bumps cert-manager from a source tree named for the version, keeps the others and drops the old version", () => {
        const versions: Versions = { ...defaultVersions, certManager: "v9.9.9" };
        const root = factsRootWithOthers(versions);
        mkdirSync(join(root, "cert-manager-v1.0.0"));
        writeCertManagerChart(join(scratch, "src", "cert-manager-v9.9.9"), "v0.0.0");

        const report = refreshFacts([join(scratch, "src")], versions, root);

        const folder = join(root, "cert-manager-v9.9.9");
        expect(report).toContain("cert-manager-v1.0.0: removed (no longer pinned)");
        expect(report.filter((line) => line.endsWith("kept (no source given)"))).toHaveLength(3);
        expect(existsSync(join(root, "cert-manager-v1.0.0"))).toBe(false);
        expect(JSON.parse(readFileSync(join(folder, factsFiles.manifest), "utf8"))).toEqual({ pin: "certManager", version: "v9.9.9", charts: { "cert-manager": "v0.0.0" } });
        const values = JSON.parse(readFileSync(join(folder, factsFiles.values("cert-manager")), "utf8")) as ValuesFacts;
        expect(values).toEqual({ types: { crds: { enabled: "boolean" }, replicaCount: "number" } });
        expect(JSON.parse(readFileSync(join(folder, factsFiles.valuesSchema("cert-manager")), "utf8"))).toEqual({ type: "object", properties: { replicaCount: { type: "number" } } });
        const crds = JSON.parse(readFileSync(join(folder, factsFiles.crds), "utf8")) as CrdFacts[];
        expect(crds.map((c) => c.kind)).toEqual(["Certificate", "Issuer", "ClusterIssuer"]);
        // The unserved version gets no schema: the API server would refuse to create it.
        expect(crds[0]).toEqual({
            group: "cert-manager.io",
            kind: "Certificate",
            schemas: [{ versions: ["v1"], openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { secretName: { type: "string" } } } } } }],
        });
    });

    it("reads a helm pull archive, whose Chart.yaml carries the published version", async () => {
        const versions: Versions = { ...defaultVersions, certManager: "v9.9.9" };
        const root = factsRootWithOthers(versions);
        writeCertManagerChart(join(scratch, "pulled", "cert-manager"), "v9.9.9");
        const archive = join(scratch, "chart.tgz");
        await createTar({ gzip: true, file: archive, cwd: join(scratch, "pulled") }, ["cert-manager"]);

        refreshFacts([archive], versions, root);

        const manifest = JSON.parse(readFileSync(join(root, "cert-manager-v9.9.9", factsFiles.manifest), "utf8"));
        expect(manifest.charts).toEqual({ "cert-manager": "v9.9.9" });
    });

    it("refuses a chart of another version and leaves the facts as they were", () => {
        const versions: Versions = { ...defaultVersions, certManager: "v9.9.9" };
        const root = factsRootWithOthers(versions);
        writeCertManagerChart(join(scratch, "src", "cert-manager-v9.9.8"), "v9.9.8");

        expect(() => refreshFacts([join(scratch, "src")], versions, root)).toThrow(/cert-manager-v9\.9\.9: no facts yet and no cert-manager chart at v9\.9\.9 among the sources/);
        expect(existsSync(join(root, "cert-manager-v9.9.9"))).toBe(false);
    });
});
