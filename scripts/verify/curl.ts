/**
 * A batch of HTTP requests run by one exec in the client pod (a POSIX shell loop around curl),
 * and the parsing of what it prints. One exec per batch keeps the API round trips to one.
 */

const begin = "@@verify-begin@@";
const endPattern = /@@verify-end status=(\d{3})@@/;
const exitPattern = /@@verify-exit (\d+)@@/;

/** The shell command for `count` GETs of `url`, each bounded by `perRequestSeconds`. */
export function curlBatchCommand(url: string, count: number, perRequestSeconds = 5): string[] {
    if (!/^https?:\/\/[A-Za-z0-9.:[\]_-]+(\/[A-Za-z0-9._~/-]*)?$/.test(url)) throw new Error(`refusing to put ${JSON.stringify(url)} in a shell command`);
    if (!Number.isInteger(count) || count < 1) throw new Error(`bad request count ${count}`);
    const script = [
        "i=0",
        `while [ "$i" -lt ${count} ]; do`,
        `  echo '${begin}'`,
        `  curl -sS -m ${perRequestSeconds} -w '\\n@@verify-end status=%{http_code}@@\\n' '${url}' 2>&1 || echo "@@verify-exit $?@@"`,
        "  i=$((i+1))",
        "done",
    ].join("\n");
    return ["sh", "-c", script];
}

export interface HttpReply {
    ok: boolean;
    /** HTTP status (0 when none arrived). */
    status: number;
    body: string;
    /** Version named by a helloworld reply (`Hello version: v2, instance: ...`). */
    version?: string;
    instance?: string;
    /** curl's exit code when it failed. */
    curlExit?: number;
}

/** Replies of a batch, in order. */
export function parseCurlBatch(stdout: string): HttpReply[] {
    return stdout
        .split(begin)
        .slice(1)
        .map((block) => {
            const end = endPattern.exec(block);
            const exit = exitPattern.exec(block);
            const body = (end ? block.slice(0, end.index) : block.replace(exitPattern, "")).trim();
            const status = end ? Number(end[1]) : 0;
            const hello = /Hello version: ([^,\s]+), instance: (\S+)/.exec(body);
            const reply: HttpReply = { ok: status === 200 && !exit, status, body };
            if (exit) reply.curlExit = Number(exit[1]);
            if (hello) {
                reply.version = hello[1];
                reply.instance = hello[2];
            }
            return reply;
        });
}

export interface ReplySummary {
    /** Requests the batch was asked to send. */
    total: number;
    /** Replies that came back; fewer than `total` when the batch was cut short. */
    received: number;
    succeeded: number;
    /** Every request without a successful reply, the ones that never came back included. */
    failed: number;
    /** Replies per helloworld version. */
    versions: Record<string, number>;
    /** A few distinct failure descriptions, for evidence. */
    failures: string[];
}

/**
 * Tallies a batch against the number of requests sent: a batch cut short (exec timed out, the
 * pod died, the stream closed) counts its missing replies as failures, so a prefix of good replies
 * never passes for the whole batch.
 */
export function summarizeReplies(replies: HttpReply[], requested: number): ReplySummary {
    const versions: Record<string, number> = {};
    const failures = new Set<string>();
    let succeeded = 0;
    for (const reply of replies) {
        if (reply.ok) {
            succeeded++;
            if (reply.version) versions[reply.version] = (versions[reply.version] ?? 0) + 1;
        } else {
            failures.add(reply.curlExit !== undefined ? `curl exit ${reply.curlExit}: ${reply.body.slice(0, 120)}` : `HTTP ${reply.status}: ${reply.body.slice(0, 120)}`);
        }
    }
    const total = Math.max(requested, replies.length);
    const shown = [...failures].slice(0, 3);
    if (replies.length < requested) shown.unshift(cutShortLine(replies.length, requested));
    return { total, received: replies.length, succeeded, failed: total - succeeded, versions, failures: shown };
}

function cutShortLine(received: number, requested: number): string {
    return `batch cut short: only ${received} of ${requested} replies came back`;
}

export function describeSummary(summary: ReplySummary): string {
    const versions = Object.entries(summary.versions)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([version, count]) => `${version}: ${count}`)
        .join(", ");
    const cutShort = summary.received < summary.total ? `; ${cutShortLine(summary.received, summary.total)}` : "";
    return `${summary.succeeded}/${summary.total} succeeded (${versions || "no helloworld replies"})${cutShort}`;
}
