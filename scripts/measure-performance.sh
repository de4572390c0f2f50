#!/usr/bin/env bash
# Repeatable measurements behind docs/performance.md: wall time of `npm test` and of the offline
# plan per stack (best of N runs), and what each plan declares. Run from the project root after
# `npm ci`; prints Markdown rows.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"

best_of() {
    local best=""
    for _ in $(seq "$runs"); do
        local start end elapsed
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        elapsed=$(echo "$end - $start" | bc)
        if [ -z "$best" ] || [ "$(echo "$elapsed < $best" | bc)" = 1 ]; then best=$elapsed; fi
    done
    printf '%.1f' "$best"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, node $(node --version)"
echo "| what | best of $runs (s) |"
echo "|---|---|"
echo "| npm test | $(best_of npm test) |"
for stack in cluster-kind cluster-gke; do
    echo "| npm run plan -- --stack $stack | $(best_of npx tsx scripts/plan/cli.ts --stack "$stack" --out "plan-out/$stack") |"
done
for stack in cluster-kind cluster-gke; do
    npx tsx scripts/plan/cli.ts --stack "$stack" --out "plan-out/$stack" --json |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);console.log(`${p.stack}: ${p.resources} resources ${JSON.stringify(p.perCluster)}, longest chain ${p.longestChain.length}: ${p.longestChain.map(u=>u.split("::").pop()).join(" -> ")}`)})'
done
