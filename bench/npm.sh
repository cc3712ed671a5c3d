#!/usr/bin/env bash
# Cargoman's npm registry against Verdaccio 6, on loopback, in one run (issue 11).
#
#   1. Publish: VERSIONS versions of `bench-big` into each registry, one `PUT` per version as
#      `npm publish` sends it (bench/npm_publish.py, one kept-alive connection); then PUBLISHES
#      more, whose latencies (median, p90) are the publish latency at that size.
#   2. Reads (wrk, 1 and 16 connections, both with a token): the abbreviated packument
#      (`Accept: application/vnd.npm.install-v1+json; q=1.0, …`, as npm and yarn ask) of the
#      big package, and a tarball; on Cargoman also the packument of `bench-small` (SMALL
#      versions), to show whether the packument rate stays flat in the version count, and the
#      revalidation of both (`If-None-Match` → 304, what npm's cache sends), which carries no body.
#
# Targets: packument ≥ 5× Verdaccio; Cargoman's packument rate at VERSIONS ≥ 0.8× its rate at
# SMALL versions. Writes bench/RESULTS-npm.md and the same tables into RESULTS.md (kept by run.sh).
# Verdaccio is installed with npm into the tools folder the tests use (outside the checkout).
#
# Environment knobs:
#   DURATION=10s      wrk duration per cell
#   VERSIONS=2000     versions of the big package
#   SMALL=20          versions of the small package
#   PUBLISHES=30      timed publishes after the big package is filled
#   RUNS=3            read cells are measured RUNS times, interleaved; the best counts
#   SKIP_BUILD=1      use the existing target/release/cargoman
#   CARGOMAN_BIN=path use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1        keep the temp dir (logs, databases, storage)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-npm.md"
DURATION=${DURATION:-10s}
VERSIONS=${VERSIONS:-2000}
SMALL=${SMALL:-20}
PUBLISHES=${PUBLISHES:-30}
RUNS=${RUNS:-3}
TOOLS_DIR=${CARGOMAN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cargoman-tools}
ACCEPT="Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"

apt_ensure wrk jq
require_tools node npm python3 curl awk

# ---------------------------------------------------------------- Verdaccio
# The recipe of shared/reference/real-clients.md: verdaccio 6 with node-fetch pinned.
VERDACCIO_DIR="$TOOLS_DIR/verdaccio"
if [ ! -x "$VERDACCIO_DIR/node_modules/.bin/verdaccio" ]; then
    log "installing Verdaccio 6 into $VERDACCIO_DIR"
    mkdir -p "$VERDACCIO_DIR"
    cat >"$VERDACCIO_DIR/package.json" <<'JSON'
{"name": "cargoman-bench-verdaccio", "private": true,
 "dependencies": {"verdaccio": "6"}, "overrides": {"node-fetch": "2.7.0"}}
JSON
    (cd "$VERDACCIO_DIR" && npm install --no-audit --no-fund >/dev/null)
fi
VERDACCIO_VERSION=$(node -p "require('$VERDACCIO_DIR/node_modules/verdaccio/package.json').version")

build_cargoman
bench_tmp npm-bench
VERDACCIO_PID=""
trap 'kill "$VERDACCIO_PID" 2>/dev/null; bench_cleanup' EXIT

start_verdaccio() {
    local dir="$TMP/verdaccio" i
    mkdir -p "$dir"
    VERDACCIO_PORT=$(free_port)
    cat >"$dir/config.yaml" <<YAML
storage: $dir/storage
auth:
  htpasswd:
    file: $dir/htpasswd
    max_users: 10
uplinks: {}
packages:
  '**':
    access: \$authenticated
    publish: \$authenticated
max_body_size: 100mb
# JWT API tokens: the default legacy tokens re-check the bcrypt password on every request,
# which would measure bcrypt rather than Verdaccio.
security:
  api:
    legacy: false
    jwt:
      sign:
        expiresIn: 7d
log: {type: stdout, format: pretty, level: error}
YAML
    log "starting Verdaccio $VERDACCIO_VERSION on 127.0.0.1:$VERDACCIO_PORT"
    node "$VERDACCIO_DIR/node_modules/.bin/verdaccio" --config "$dir/config.yaml" \
        --listen "127.0.0.1:$VERDACCIO_PORT" >"$dir/verdaccio.log" 2>&1 &
    VERDACCIO_PID=$!
    for i in $(seq 300); do
        curl -sf -o /dev/null "http://127.0.0.1:$VERDACCIO_PORT/-/ping" && break
        kill -0 "$VERDACCIO_PID" 2>/dev/null || { cat "$dir/verdaccio.log" >&2; die "Verdaccio exited"; }
        sleep 0.1
    done
    # `npm adduser`'s request: the answer carries the token.
    VERDACCIO_TOKEN=$(curl -sf -X PUT -H 'Content-Type: application/json' \
        --data '{"name": "bench", "password": "bench-password-1"}' \
        "http://127.0.0.1:$VERDACCIO_PORT/-/user/org.couchdb.user:bench" | jq -r .token)
    [ -n "$VERDACCIO_TOKEN" ] && [ "$VERDACCIO_TOKEN" != null ] || die "no Verdaccio token"
}

TOKEN="bench-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
start_cargoman "$TMP/cargoman"
start_verdaccio
CM="http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/npm/"
VD="http://127.0.0.1:$VERDACCIO_PORT/"
CM_AUTH="Authorization: Bearer $TOKEN"
VD_AUTH="Authorization: Bearer $VERDACCIO_TOKEN"

# ---------------------------------------------------------------- publish
publish() { # registry token name first count -> seconds, one line per publish, into $TMP/$6
    python3 "$BENCH_DIR/npm_publish.py" "$1" "$2" "$3" "$4" "$5" >"$TMP/$6"
}
quantile() { # file q -> value in ms
    sort -n "$1" | awk -v q="$2" '{v[NR] = $1} END {i = int(NR * q + 0.5); if (i < 1) i = 1; printf "%.1f", v[i] * 1000}'
}
total_s() { awk '{s += $1} END {printf "%.1f", s}' "$1"; }

for side in cm vd; do
    if [ $side = cm ]; then reg=$CM tok=$TOKEN name=Cargoman; else reg=$VD tok=$VERDACCIO_TOKEN name=Verdaccio; fi
    log "$name: publishing $VERSIONS versions of bench-big"
    publish "$reg" "$tok" bench-big 0 "$VERSIONS" "$side-fill.txt"
    log "$name: $PUBLISHES timed publishes at $VERSIONS versions"
    publish "$reg" "$tok" bench-big "$VERSIONS" "$PUBLISHES" "$side-publish.txt"
    publish "$reg" "$tok" bench-small 0 "$SMALL" "$side-small.txt"
done

# Every read answers 200 with the document or file before anything is timed.
check() { # url header… -> bytes
    local url=$1 code
    shift
    local -a h=()
    for hdr in "$@"; do h+=(-H "$hdr"); done
    code=$(curl -s -D "$TMP/check.headers" -o "$TMP/check.out" -w '%{http_code}' "${h[@]}" "$url")
    [ "$code" = 200 ] || { head -c 500 "$TMP/check.out" >&2; die "GET $url returned $code"; }
    wc -c <"$TMP/check.out"
}
LAST=$(awk -v n="$((VERSIONS - 1))" 'BEGIN {printf "%d.%d.%d", n / 100, int(n / 10) % 10, n % 10}')
CM_TGZ="${CM}bench-big/-/bench-big-$LAST.tgz"
VD_TGZ="${VD}bench-big/-/bench-big-$LAST.tgz"
# The ETag of the document `check` read last.
etag() { awk 'tolower($1) == "etag:" {sub(/\r$/, ""); print substr($0, 7)}' "$TMP/check.headers"; }
CM_DOC_BYTES=$(check "${CM}bench-big" "$ACCEPT" "$CM_AUTH")
CM_DOC_ETAG=$(etag)
check "${CM}bench-small" "$ACCEPT" "$CM_AUTH" >/dev/null
CM_SMALL_ETAG=$(etag)
VD_DOC_BYTES=$(check "${VD}bench-big" "$ACCEPT" "$VD_AUTH")
[ -n "$CM_DOC_ETAG" ] && [ -n "$CM_SMALL_ETAG" ] || die "Cargoman's packuments carry no ETag"
revalidated=$(curl -s -o /dev/null -w '%{http_code}' -H "$ACCEPT" -H "$CM_AUTH" \
    -H "If-None-Match: $CM_DOC_ETAG" "${CM}bench-big")
[ "$revalidated" = 304 ] || die "revalidating the packument answered $revalidated, not 304"
check "$CM_TGZ" "$CM_AUTH" >/dev/null
check "$VD_TGZ" "$VD_AUTH" >/dev/null

# ---------------------------------------------------------------- reads
declare -A BEST ERRS P99
cell() { # key url conc header…: keeps the best req/s of the runs
    local key=$1 r e p9
    shift
    read -r r e _ p9 < <(wrk_cell "$@")
    ERRS[$key]=$((${ERRS[$key]:-0} + e))
    if awk -v a="$r" -v b="${BEST[$key]:-0}" 'BEGIN {exit !(a > b)}'; then
        BEST[$key]=$r
        P99[$key]=$p9
    fi
}
for run in $(seq "$RUNS"); do
    log "reads, run $run of $RUNS"
    for conc in 1 16; do
        cell "cm-doc-$conc" "${CM}bench-big" "$conc" "$ACCEPT" "$CM_AUTH"
        cell "vd-doc-$conc" "${VD}bench-big" "$conc" "$ACCEPT" "$VD_AUTH"
        cell "cm-small-$conc" "${CM}bench-small" "$conc" "$ACCEPT" "$CM_AUTH"
        cell "cm-304-$conc" "${CM}bench-big" "$conc" "$ACCEPT" "$CM_AUTH" "If-None-Match: $CM_DOC_ETAG"
        cell "cm-small-304-$conc" "${CM}bench-small" "$conc" "$ACCEPT" "$CM_AUTH" "If-None-Match: $CM_SMALL_ETAG"
        cell "cm-tgz-$conc" "$CM_TGZ" "$conc" "$CM_AUTH"
        cell "vd-tgz-$conc" "$VD_TGZ" "$conc" "$VD_AUTH"
    done
done

ratio() { calc "%.2f" "$1 / $2"; }

flatness_rows() { # big-key small-key: the rate at VERSIONS against the rate at SMALL
    local conc r
    for conc in 1 16; do
        r=$(ratio "${BEST[$1-$conc]}" "${BEST[$2-$conc]}")
        echo "| $conc | ${BEST[$2-$conc]} | ${BEST[$1-$conc]} | ${r}× | $(verdict "$r" ">=" 0.8) |"
    done
}

# ---------------------------------------------------------------- results
{
    echo "# npm: Cargoman against Verdaccio"
    echo
    echo "Generated by \`bench/npm.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, loopback, load"
    echo "generator and servers sharing the cores. Cargoman $GIT_REV$GIT_DIRTY (release, SQLite +"
    echo "filesystem); Verdaccio $VERDACCIO_VERSION (node $(node --version), filesystem storage, htpasswd"
    echo "auth with JWT API tokens, no uplinks). Reads with a token on both; wrk \`-d$DURATION\`, best of $RUNS interleaved runs."
    echo
    echo "## Abbreviated packument of a package with $VERSIONS versions"
    echo
    echo "Document size: Cargoman $CM_DOC_BYTES bytes, Verdaccio $VD_DOC_BYTES bytes. Target: ≥ 5× Verdaccio."
    echo
    echo "| Connections | Cargoman req/s | p99 ms | Verdaccio req/s | p99 ms | Cargoman/Verdaccio | Target | Errors |"
    echo "|---:|---:|---:|---:|---:|---:|---|---|"
    for conc in 1 16; do
        r=$(ratio "${BEST[cm-doc-$conc]}" "${BEST[vd-doc-$conc]}")
        echo "| $conc | ${BEST[cm-doc-$conc]} | ${P99[cm-doc-$conc]} | ${BEST[vd-doc-$conc]} | ${P99[vd-doc-$conc]} | ${r}× | $(verdict "$r" ">=" 5) | ${ERRS[cm-doc-$conc]}/${ERRS[vd-doc-$conc]} |"
    done
    echo
    echo "## Packument rate against version count (Cargoman)"
    echo
    echo "Target: the rate at $VERSIONS versions ≥ 0.8× the rate at $SMALL (a read costs the same whatever the count)."
    echo
    echo "| Connections | $SMALL versions req/s | $VERSIONS versions req/s | ratio | Target |"
    echo "|---:|---:|---:|---:|---|"
    flatness_rows cm-doc cm-small
    echo
    echo "The full-body rate follows the bytes: the document at $VERSIONS versions is about $VERSIONS/$SMALL"
    echo "times larger, and both are served from memory as rendered. What a read costs apart from its"
    echo "bytes shows in the revalidation npm's cache sends (\`If-None-Match\`, answered 304 without a body):"
    echo
    echo "| Connections | 304 at $SMALL versions req/s | 304 at $VERSIONS versions req/s | ratio | Target |"
    echo "|---:|---:|---:|---:|---|"
    flatness_rows cm-304 cm-small-304
    echo
    echo "## Tarball download"
    echo
    echo "| Connections | Cargoman req/s | p99 ms | Verdaccio req/s | p99 ms | Cargoman/Verdaccio | Errors |"
    echo "|---:|---:|---:|---:|---:|---:|---|"
    for conc in 1 16; do
        r=$(ratio "${BEST[cm-tgz-$conc]}" "${BEST[vd-tgz-$conc]}")
        echo "| $conc | ${BEST[cm-tgz-$conc]} | ${P99[cm-tgz-$conc]} | ${BEST[vd-tgz-$conc]} | ${P99[vd-tgz-$conc]} | ${r}× | ${ERRS[cm-tgz-$conc]}/${ERRS[vd-tgz-$conc]} |"
    done
    echo
    echo "## Publish"
    echo
    echo "One \`PUT\` per version as npm sends it, over one connection. Latency of the $PUBLISHES publishes made"
    echo "after the package already had $VERSIONS versions."
    echo
    echo "| | Cargoman | Verdaccio |"
    echo "|---|---:|---:|"
    echo "| publish latency, median ms | $(quantile "$TMP/cm-publish.txt" 0.5) | $(quantile "$TMP/vd-publish.txt" 0.5) |"
    echo "| publish latency, p90 ms | $(quantile "$TMP/cm-publish.txt" 0.9) | $(quantile "$TMP/vd-publish.txt" 0.9) |"
    echo "| filling $VERSIONS versions, s | $(total_s "$TMP/cm-fill.txt") | $(total_s "$TMP/vd-fill.txt") |"
} >"$RESULTS"
results_summary npm "## npm against Verdaccio (\`bench/npm.sh\`)"

log "results written to $RESULTS"
cat "$RESULTS"
