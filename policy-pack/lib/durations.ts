/** Seconds per unit of a Go duration string (`time.ParseDuration`). */
const unitSeconds: Record<string, number> = {
    ns: 1e-9,
    us: 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    ms: 1e-3,
    s: 1,
    m: 60,
    h: 3600,
};

const durationPattern = /^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;

/**
 * Seconds in a Go duration string as cert-manager parses it (`2160h`, `1h30m`, `2160h0m0s`,
 * `1.5h`), or undefined when the text is not one. A bare `0` is a valid Go duration.
 */
export function goDurationSeconds(text: string): number | undefined {
    if (text === "0" || text === "+0" || text === "-0") return 0;
    if (!durationPattern.test(text)) return undefined;
    const sign = text.startsWith("-") ? -1 : 1;
    let total = 0;
    for (const match of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
        total += Number(match[1]) * unitSeconds[match[2]];
    }
    return sign * total;
}
