/**
 * Why a string is not a SPIFFE trust domain name, or undefined when it is one. The SPIFFE ID
 * standard (section 2.1) allows lowercase letters, digits, dots, dashes and underscores only;
 * SPIRE's CRDs cap the length at 255.
 */
export function trustDomainProblem(name: string): string | undefined {
    if (name === "") return "is empty";
    if (name.includes("://")) return "includes a scheme";
    if (name.includes("/")) return "includes a path";
    if (name.includes(":")) return "includes a port";
    if (/[A-Z]/.test(name)) return "has upper-case letters";
    if (!/^[a-z0-9._-]+$/.test(name)) return "has characters other than lowercase letters, digits, '.', '-' and '_'";
    if (name.length > 255) return "is longer than 255 characters";
    return undefined;
}

/** The SPIFFE ID a peer's SPIRE server presents on its bundle endpoint. */
export function serverSpiffeId(trustDomain: string): string {
    return `spiffe://${trustDomain}/spire/server`;
}

/**
 * Why a text is not a usable SPIFFE bundle (JWK set with at least one `x509-svid` key carrying a
 * certificate), or undefined when it is one.
 */
export function spiffeBundleProblem(text: string): string | undefined {
    if (text.trim() === "") return "is empty";
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return "is not JSON (a SPIFFE bundle is a JWK set)";
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) return "has no keys";
    const x509 = keys.filter(
        (key): key is { x5c: unknown[] } =>
            key !== null &&
            typeof key === "object" &&
            (key as { use?: unknown }).use === "x509-svid" &&
            Array.isArray((key as { x5c?: unknown }).x5c) &&
            (key as { x5c: unknown[] }).x5c.length > 0,
    );
    if (x509.length === 0) return "has no x509-svid key with a certificate (x5c)";
    return undefined;
}
