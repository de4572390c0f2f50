/**
 * A stack's config as a user would set it for local clusters: platform `existing`, NodePort
 * exposure, the chart mirror's repositories (plain http, allowed explicitly), and per domain its cluster and, if supplied, its root.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigMap } from "@pulumi/pulumi/automation";
import { Repositories } from "../charts/mirror";
import { Domain } from "../clusters/domains";

/**
 * Config of a stack deploying `stackDomains`, each with its root from the root-cas phase (the key
 * as a secret) when roots are supplied; generated roots need no config.
 * @param stackDomains the stack's `domains`, in order
 * @param repositories the chart mirror's URLs, as `chartRepositories`
 * @param roots whether the scenario supplies the roots (setup.ts)
 */
export function domainConfig(stackDomains: Domain[], repositories: Repositories, roots: "supplied" | "generated"): ConfigMap {
    const config: ConfigMap = {
        platform: { value: "existing" },
        exposure: { value: "NodePort" },
        // The chart mirror serves plain http on loopback (charts/serve.ts); the program refuses
        // plaintext repositories unless told.
        allowPlaintextChartRepositories: { value: "true" },
    };
    for (const [source, url] of Object.entries(repositories)) config[`chartRepositories.${source}`] = { value: url };
    stackDomains.forEach((domain, i) => {
        const keyName = `${domain.name.replace(/-/g, "")}RootKey`;
        Object.assign(config, {
            [`domains[${i}].name`]: { value: domain.name },
            [`domains[${i}].trustDomain`]: { value: domain.trustDomain },
            [`domains[${i}].network`]: { value: domain.network },
            [`domains[${i}].existing.context`]: { value: domain.name },
            [`domains[${i}].existing.kubeconfig`]: { value: domain.kubeconfig },
            [`domains[${i}].existing.nodeAddress`]: { value: domain.address },
        });
        if (roots === "generated") return;
        Object.assign(config, {
            [`domains[${i}].rootCa.certificatePem`]: { value: fs.readFileSync(path.join(domain.rootDir, "root.crt"), "utf8") },
            [`domains[${i}].rootCa.privateKeyConfigKey`]: { value: keyName },
            [keyName]: { value: fs.readFileSync(path.join(domain.rootDir, "root.key"), "utf8"), secret: true },
        });
    });
    return config;
}
