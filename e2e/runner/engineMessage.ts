/**
 * The part of a failed engine operation's error worth a line in the summary. The Automation API
 * throws the CLI's whole output; the cause is in its `error:` lines and the indented lines below.
 */

/**
 * The engine's own error lines with their indented details when there are any, else the message.
 * @param error what a phase threw: an Automation API error carries the CLI's output as its message
 */
export function engineMessage(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const found: string[] = [];
    let indent = -1;
    // An error line ending in ":" (Helm's schema errors) goes on at its own depth until a blank line.
    let continued = false;
    for (const line of text.split("\n")) {
        const depth = line.length - line.trimStart().length;
        if (/^\s*error:/i.test(line) && !line.includes("pulumi:pulumi:Stack")) {
            found.push(line.trim());
            indent = depth;
            continued = line.trimEnd().endsWith(":");
        } else if (indent >= 0 && line.trim() !== "" && (depth > indent || (continued && depth === indent))) {
            found.push(`  ${line.trim()}`);
        } else {
            indent = -1;
            continued = false;
        }
    }
    const unique = [...new Set(found)];
    return (unique.length > 0 ? unique.join("\n") : text.trim()).slice(0, 4000);
}
