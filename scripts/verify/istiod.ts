/**
 * What istiod itself says about the CA it has loaded, read from its own monitoring endpoint.
 *
 * Why this and not a proxy: every sample proxy takes its certificate and trust from SPIRE, so no
 * proxy config dump holds an istiod-signed chain, and istiod's debug endpoints describe xDS state,
 * not its CA. istiod records the expiry of the first certificate of its signing chain (the
 * `cacerts` intermediate) and of its root as gauges each time it loads the bundle: at start and
 * again after the `cacerts` file watcher has reloaded it successfully. A gauge equal to the
 * Secret's certificate therefore shows that istiod has taken that certificate in, not merely that
 * the Secret changed.
 */

/**
 * Run in istiod's `discovery` container: `pilot-discovery request` GETs its own monitoring port
 * (127.0.0.1:15014) and prints the body, so it needs neither a shell nor curl in the image, nor a
 * port-forward.
 */
export const istiodMetricsCommand = ["pilot-discovery", "request", "GET", "/metrics"];

export const istiodContainer = "discovery";
export const istiodLabelSelector = "app=istiod";

/** Gauge names, as istiod exports them (no unit or scope suffixes). */
export const certChainExpiryMetric = "citadel_server_cert_chain_expiry_timestamp";
export const rootCertExpiryMetric = "citadel_server_root_cert_expiry_timestamp";

export interface IstiodCaExpiry {
    /** notAfter, in Unix seconds, of the signing certificate istiod loaded. */
    certChain?: number;
    /** notAfter, in Unix seconds, of the root istiod loaded. */
    root?: number;
}

/** Value of an unlabelled (or labelled) gauge in Prometheus text exposition; undefined when absent. */
function gauge(metrics: string, name: string): number | undefined {
    for (const line of metrics.split("\n")) {
        if (!line.startsWith(name)) continue;
        const match = /^(\S+?)(\{[^}]*\})?\s+(\S+)/.exec(line);
        if (!match || match[1] !== name) continue;
        const value = Number(match[3]);
        if (Number.isFinite(value)) return value;
    }
    return undefined;
}

export function parseIstiodCaExpiry(metrics: string): IstiodCaExpiry {
    const result: IstiodCaExpiry = {};
    const chain = gauge(metrics, certChainExpiryMetric);
    const root = gauge(metrics, rootCertExpiryMetric);
    if (chain !== undefined) result.certChain = chain;
    if (root !== undefined) result.root = root;
    return result;
}

/** notAfter of a certificate in Unix seconds, the unit istiod's gauges use. */
export function notAfterSeconds(validTo: string): number {
    return Math.floor(new Date(validTo).getTime() / 1000);
}
