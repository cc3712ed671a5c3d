#!/usr/bin/env bash
# The hot read path every format shares, against nginx serving the same bytes, in one run:
#
#   generic   GET of a 1 MiB Generic file (root token)            vs nginx, the same file
#   p2 root   GET /p2/bench/lib.json (root token, unfiltered)      vs nginx, the same document
#   p2 cust   the same path as a customer granted `^1.0` (filtered) vs nginx, the filtered bytes
#
# each at 1 and 16 connections. Targets (issue 9): Generic ≥ 0.9× nginx, every metadata document
# ≥ 0.8× nginx. Writes bench/RESULTS-read-path.md and the same table into bench/RESULTS.md.
#
# Knobs: DURATION=10s, RUNS=1 (best of, interleaved), TAGS=20, SKIP_BUILD=1, CARGOMAN_BIN=path,
# KEEP_TMP=1, PROFILE=1 (perf record Cargoman during one more run of each cell at 16 connections
# and append the top of each profile).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-read-path.md"
DURATION=${DURATION:-10s}
RUNS=${RUNS:-1}
TAGS=${TAGS:-20}

apt_ensure nginx wrk git jq
require_tools curl awk base64
build_cargoman
bench_tmp read-path

# ---------------------------------------------------------------- a Composer package with TAGS tags
log "creating a Git repository with $TAGS tags"
REPO="$TMP/repo"
git init -q -b main "$REPO"
git -C "$REPO" config user.email bench@example.org
git -C "$REPO" config user.name Bench
printf '{"name":"bench/lib","description":"read path benchmark","type":"library","license":"MIT","require":{"php":">=8.1"},"autoload":{"psr-4":{"Bench\\\\":"src/"}}}\n' >"$REPO/composer.json"
mkdir -p "$REPO/src"
for ((i = 0; i < TAGS; i++)); do
    v="$((1 + i / 8)).$(((i % 8) / 2)).$((i % 2))"
    printf '<?php\nnamespace Bench;\nfinal class Version { public const V = "%s"; }\n' "$v" >"$REPO/src/Version.php"
    git -C "$REPO" add -A
    git -C "$REPO" commit -qm "Release $v"
    git -C "$REPO" tag "v$v"
done

# ---------------------------------------------------------------- Cargoman
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_cargoman "$TMP/state"
C_BASE="http://127.0.0.1:$CARGOMAN_PORT"
H_ROOT="Authorization: Bearer $TOKEN"

log "publishing the Generic file, syncing the Composer package, granting a customer ^1.0"
head -c 1048576 /dev/urandom >"$TMP/file.bin"
GENERIC=/api/packages/bench/generic/tool/1.0/file.bin
curl -sSf -o /dev/null -H "$H_ROOT" --upload-file "$TMP/file.bin" "$C_BASE$GENERIC"
task=$(api POST /api/v1/packages "$(jq -nc --arg u "file://$REPO" '{name: "bench/lib", repository_url: $u, type: "git"}')" |
    jq -r .data.task.id)
wait_task "$task" >/dev/null
CUSTOMER=$(api POST /api/v1/customers '{"name":"Read Path"}')
CUSTOMER_ID=$(jq -r .data.id <<<"$CUSTOMER")
H_CUST="Authorization: Basic $(printf 'token:%s' "$(jq -r .data.token <<<"$CUSTOMER")" | base64 -w0)"
api PUT "/api/v1/customers/$CUSTOMER_ID/packages" '{"packages":[{"package":"bench/lib","constraint":"^1.0"}]}' >/dev/null

P2=/p2/bench/lib.json
mkdir -p "$TMP/nginx/www/p2/bench" "$TMP/nginx/www/cust/p2/bench" "$(dirname "$TMP/nginx/www$GENERIC")"
cp "$TMP/file.bin" "$TMP/nginx/www$GENERIC"
curl -sSf -H "$H_ROOT" -o "$TMP/nginx/www$P2" "$C_BASE$P2"
curl -sSf -H "$H_CUST" -o "$TMP/nginx/www/cust$P2" "$C_BASE$P2"
ROOT_VERSIONS=$(jq '.packages["bench/lib"] | length' "$TMP/nginx/www$P2")
CUST_VERSIONS=$(jq '.packages["bench/lib"] | length' "$TMP/nginx/www/cust$P2")
[ "$ROOT_VERSIONS" -eq "$TAGS" ] || die "root sees $ROOT_VERSIONS versions, expected $TAGS"
[ "$CUST_VERSIONS" -lt "$TAGS" ] && [ "$CUST_VERSIONS" -gt 0 ] || die "customer sees $CUST_VERSIONS versions"
start_nginx application/octet-stream
N_BASE="http://127.0.0.1:$NGINX_PORT"

# CELLS: id|label|cargoman url|header|nginx url|bytes
CELLS=(
    "generic|Generic 1 MiB file|$C_BASE$GENERIC|$H_ROOT|$N_BASE$GENERIC|$(wc -c <"$TMP/file.bin")"
    "root|\`p2\`, root (unfiltered)|$C_BASE$P2|$H_ROOT|$N_BASE$P2|$(wc -c <"$TMP/nginx/www$P2")"
    "cust|\`p2\`, customer \`^1.0\` (filtered)|$C_BASE$P2|$H_CUST|$N_BASE/cust$P2|$(wc -c <"$TMP/nginx/www/cust$P2")"
)
for cell in "${CELLS[@]}"; do
    IFS='|' read -r id _ c_url hdr n_url _ <<<"$cell"
    cmp -s <(curl -sSf -H "$hdr" "$c_url") <(curl -sSf "$n_url") || die "$id: nginx and Cargoman serve other bytes"
done

declare -A RPS P99
best() { # key rps p99
    if [ -z "${RPS[$1]:-}" ] || awk -v a="$2" -v b="${RPS[$1]}" 'BEGIN {exit !(a > b)}'; then
        RPS[$1]=$2 P99[$1]=$3
    fi
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
    for cell in "${CELLS[@]}"; do
        IFS='|' read -r id label c_url hdr n_url _ <<<"$cell"
        for conc in 1 16; do
            log "run $run: $label, $conc connection(s)"
            read -r r e _ p9 < <(wrk_cell "$n_url" "$conc")
            [ "$e" = 0 ] || die "nginx: $e errors"
            best "n,$id,$conc" "$r" "$p9"
            read -r r e _ p9 < <(wrk_cell "$c_url" "$conc" "$hdr")
            [ "$e" = 0 ] || die "Cargoman: $e errors"
            best "c,$id,$conc" "$r" "$p9"
            echo "  nginx ${RPS[n,$id,$conc]} req/s, Cargoman ${RPS[c,$id,$conc]} req/s (best so far)" >&2
        done
    done
done

PROFILES=""
if [ "${PROFILE:-0}" = 1 ]; then
    for cell in "${CELLS[@]}"; do
        IFS='|' read -r id label c_url hdr _ _ <<<"$cell"
        log "profiling: $label, 16 connections"
        perf record -q -g -o "$TMP/perf-$id.data" -p "$CARGOMAN_PID" 2>/dev/null &
        HELPER_PID=$!
        sleep 0.5
        wrk_cell "$c_url" 16 "$hdr" >/dev/null
        kill -INT "$HELPER_PID"
        wait "$HELPER_PID" || true
        HELPER_PID=""
        PROFILES+=$'\n'"### $label"$'\n\n```\n'"$(perf report -i "$TMP/perf-$id.data" --no-children --sort dso,sym --stdio 2>/dev/null |
            grep -E '^ +[0-9]+\.[0-9]+%' | sed -n 1,25p)"$'\n```\n'
    done
fi

table() {
    echo "| Read | Bytes | Conns | nginx req/s | Cargoman req/s | Cargoman p99 | Cargoman/nginx | Target |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for cell in "${CELLS[@]}"; do
        IFS='|' read -r id label _ _ _ bytes <<<"$cell"
        target=0.8
        [ "$id" = generic ] && target=0.9
        for conc in 1 16; do
            r=$(calc %.2f "${RPS[c,$id,$conc]} / ${RPS[n,$id,$conc]}")
            echo "| $label | $bytes | $conc | $(calc %.0f "${RPS[n,$id,$conc]}") | $(calc %.0f "${RPS[c,$id,$conc]}") | ${P99[c,$id,$conc]} ms | ${r}× | ≥ ${target}×: $(verdict "$r" '>=' "$target") |"
        done
    done
}

{
    echo "# The hot read path against nginx (bench/read_path.sh)"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared by wrk, nginx and Cargoman on loopback; load"
    echo "average before the reads $LOAD_START. Cargoman $GIT_REV$GIT_DIRTY, release build, SQLite + filesystem."
    echo "nginx (\`sendfile on\`, \`worker_processes auto\`) serves the same bytes as static files without auth;"
    echo "wrk \`-t1 -c1\` / \`-t2 -c16\`, \`-d$DURATION\`, best of $RUNS interleaved run(s). The Composer package has"
    echo "$TAGS tags; the customer's grant \`^1.0\` lets $CUST_VERSIONS of them through."
    echo
    table
    [ -z "$PROFILES" ] || printf '\n## Profiles (perf, 16 connections)\n%s' "$PROFILES"
} >"$RESULTS"

# The same table in RESULTS.md, between markers that bench/run.sh keeps.
results_block read-path "## Read path against nginx (\`bench/read_path.sh\`, $(date -u +%Y-%m-%d))" \
    "Details and profiles: [RESULTS-read-path.md](RESULTS-read-path.md)." table
cat "$RESULTS"
