#!/usr/bin/env bash
# Cargoman's npm registry against Verdaccio 6 on the same machine, in one run:
#
#   1. Setup: both servers on loopback (Cargoman: SQLite + filesystem; Verdaccio: its file
#      storage, htpasswd auth, no uplinks); the same publish bodies (`bench/npm-publish.mjs`, as
#      `npm publish` sends them) go to both: `big` with VERSIONS versions, `small` with 20.
#      Publish latency: the median of the last 20 publishes of `big` (the package at full size).
#   2. Reads with wrk, authenticated, at 1 and 16 connections: the abbreviated packument (the
#      `Accept` header npm sends) of `big` and of `small`, and one tarball.
#
# Targets (issue 11): abbreviated packument of `big` ≥ 5× Verdaccio; Cargoman's packument rate at
# VERSIONS versions ≥ 0.8× its rate at 20. Writes bench/RESULTS-npm.md and the same table into
# bench/RESULTS.md. Verdaccio is installed with npm into $TOOLS_DIR/verdaccio (outside the
# checkout) when missing; wrk and jq from Debian.
#
# Knobs: DURATION=10s, RUNS=1 (best of, interleaved), VERSIONS=2000, SKIP_BUILD=1,
# CARGOMAN_BIN=path, KEEP_TMP=1.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-npm.md"
DURATION=${DURATION:-10s}
RUNS=${RUNS:-1}
VERSIONS=${VERSIONS:-2000}
: "${TOOLS_DIR:=${CARGOMAN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cargoman-tools}}"
ACCEPT="Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"

apt_ensure wrk jq
require_tools curl awk node npm
build_cargoman
bench_tmp npm-bench

# ---------------------------------------------------------------- Verdaccio
VERDACCIO_DIR="$TOOLS_DIR/verdaccio"
if [ ! -x "$VERDACCIO_DIR/node_modules/.bin/verdaccio" ]; then
    log "installing verdaccio@6 into $VERDACCIO_DIR"
    mkdir -p "$VERDACCIO_DIR"
    # node-fetch 2.7 instead of the 3.x ESM build, which Verdaccio 6's CommonJS cannot load.
    echo '{"private":true,"overrides":{"node-fetch":"2.7.0"}}' >"$VERDACCIO_DIR/package.json"
    (cd "$VERDACCIO_DIR" && npm install --no-audit --no-fund --loglevel=error verdaccio@6)
fi
VERDACCIO_VERSION=$(jq -r .version "$VERDACCIO_DIR/node_modules/verdaccio/package.json")
V_PORT=$(free_port)
mkdir -p "$TMP/verdaccio/storage"
cat >"$TMP/verdaccio/config.yaml" <<EOF
storage: $TMP/verdaccio/storage
auth:
  htpasswd:
    file: $TMP/verdaccio/htpasswd
    max_users: 10
uplinks: {}
packages:
  '**':
    access: \$authenticated
    publish: \$authenticated
    unpublish: \$authenticated
listen: 127.0.0.1:$V_PORT
max_body_size: 100mb
# JWT tokens: the default legacy tokens re-check the htpasswd password (bcrypt) on every request.
security:
  api:
    jwt:
      sign:
        expiresIn: 7d
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
EOF
"$VERDACCIO_DIR/node_modules/.bin/verdaccio" --config "$TMP/verdaccio/config.yaml" >"$TMP/verdaccio/log" 2>&1 &
VERDACCIO_PID=$!
stop_verdaccio() { kill "$VERDACCIO_PID" 2>/dev/null || true; }
trap 'stop_verdaccio; bench_cleanup' EXIT
V_BASE="http://127.0.0.1:$V_PORT"
for _ in $(seq 300); do
    curl -sf -o /dev/null "$V_BASE/-/ping" && break
    kill -0 "$VERDACCIO_PID" 2>/dev/null || { cat "$TMP/verdaccio/log" >&2; die "Verdaccio exited"; }
    sleep 0.1
done
V_TOKEN=$(curl -sSf -X PUT -H 'Content-Type: application/json' \
    --data '{"name":"bench","password":"bench-password"}' \
    "$V_BASE/-/user/org.couchdb.user:bench" | jq -r .token)
[ -n "$V_TOKEN" ] && [ "$V_TOKEN" != null ] || die "no Verdaccio token"
V_REGISTRY="$V_BASE/"

# ---------------------------------------------------------------- Cargoman
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_cargoman "$TMP/state"
C_REGISTRY="http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/npm/"

# ---------------------------------------------------------------- publishes
publish() { # registry token name count -> per-publish ms in $TMP/publish-<server>-<name>
    node "$BENCH_DIR/npm-publish.mjs" "$1" "$2" "$3" "$4"
}
for server in cargoman verdaccio; do
    if [ "$server" = cargoman ]; then reg=$C_REGISTRY tok=$TOKEN; else reg=$V_REGISTRY tok=$V_TOKEN; fi
    log "$server: publishing small (20 versions) and big ($VERSIONS versions)"
    publish "$reg" "$tok" small 20 >"$TMP/publish-$server-small"
    publish "$reg" "$tok" big "$VERSIONS" >"$TMP/publish-$server-big"
done
median_of_last20() { tail -n 20 "$1" | sort -n | awk '{a[NR] = $1} END {print (a[10] + a[11]) / 2}'; }
declare -A PUBLISH
for server in cargoman verdaccio; do
    PUBLISH[$server,first]=$(head -n 20 "$TMP/publish-$server-big" | sort -n | awk '{a[NR] = $1} END {print (a[10] + a[11]) / 2}')
    PUBLISH[$server,last]=$(median_of_last20 "$TMP/publish-$server-big")
done

# Both serve the same versions.
for server in cargoman verdaccio; do
    if [ "$server" = cargoman ]; then reg=$C_REGISTRY tok=$TOKEN; else reg=$V_REGISTRY tok=$V_TOKEN; fi
    n=$(curl -sSf -H "Authorization: Bearer $tok" -H "$ACCEPT" "${reg}big" | jq '.versions | length')
    [ "$n" -eq "$VERSIONS" ] || die "$server lists $n versions of big, expected $VERSIONS"
    curl -sSf -o "$TMP/$server-big.json" -H "Authorization: Bearer $tok" -H "$ACCEPT" "${reg}big"
    curl -sSf -o "$TMP/$server-small.json" -H "Authorization: Bearer $tok" -H "$ACCEPT" "${reg}small"
done
TARBALL="big/-/big-1.0.0.tgz"
cmp -s <(curl -sSf -H "Authorization: Bearer $TOKEN" "$C_REGISTRY$TARBALL") \
    <(curl -sSf -H "Authorization: Bearer $V_TOKEN" "$V_REGISTRY$TARBALL") || die "the tarballs differ"

# ---------------------------------------------------------------- reads
# CELLS: id|label
CELLS=(
    "big|abbreviated packument, $VERSIONS versions"
    "small|abbreviated packument, 20 versions"
    "tarball|tarball (2 KiB)"
)
url_of() { # server id
    local reg
    if [ "$1" = cargoman ]; then reg=$C_REGISTRY; else reg=$V_REGISTRY; fi
    case $2 in
        big | small) echo "$reg$2" ;;
        tarball) echo "$reg$TARBALL" ;;
    esac
}
declare -A RPS P99 ERRORS
best() { # key rps p99
    if [ -z "${RPS[$1]:-}" ] || awk -v a="$2" -v b="${RPS[$1]}" 'BEGIN {exit !(a > b)}'; then
        RPS[$1]=$2 P99[$1]=$3
    fi
}
cell() { # server id conc -> "rps errors p50 p99"
    local tok hdrs=()
    if [ "$1" = cargoman ]; then tok=$TOKEN; else tok=$V_TOKEN; fi
    hdrs=(-H "Authorization: Bearer $tok")
    [ "$2" = tarball ] || hdrs+=(-H "$ACCEPT")
    local threads=1 out rps errs p99
    [ "$3" -gt 1 ] && threads=2
    out=$(wrk -t"$threads" -c"$3" -d"$DURATION" --latency --timeout 30s "${hdrs[@]}" "$(url_of "$1" "$2")")
    printf '%s\n%s\n' "== $1 $2 c=$3" "$out" >>"$TMP/wrk.log"
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    errs=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' <<<"$out")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    echo "${rps:-0} $errs $p99"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
    for c in "${CELLS[@]}"; do
        IFS='|' read -r id label <<<"$c"
        for conc in 1 16; do
            for server in verdaccio cargoman; do
                log "run $run: $server, $label, $conc connection(s)"
                read -r r e p9 < <(cell "$server" "$id" "$conc")
                # Failed requests would count as served: Cargoman must have none, and a Verdaccio
                # cell with errors is reported as such.
                if [ "$e" != 0 ]; then
                    [ "$server" = verdaccio ] || die "$server $id: $e errors (see $TMP/wrk.log)"
                    ERRORS[$id,$conc]=$e
                    r=0
                fi
                best "$server,$id,$conc" "$r" "$p9"
            done
        done
    done
done
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$CARGOMAN_PID/status")

table() {
    echo "| Measure | Conns | Verdaccio | Cargoman | Cargoman p99 | Cargoman/Verdaccio | Target |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    for c in "${CELLS[@]}"; do
        IFS='|' read -r id label <<<"$c"
        for conc in 1 16; do
            if [ "${RPS[verdaccio,$id,$conc]}" = 0 ]; then
                echo "| $label, req/s | $conc | failed (${ERRORS[$id,$conc]} errors) | $(calc %.0f "${RPS[cargoman,$id,$conc]}") | ${P99[cargoman,$id,$conc]} ms | — | — |"
                continue
            fi
            r=$(calc %.1f "${RPS[cargoman,$id,$conc]} / ${RPS[verdaccio,$id,$conc]}")
            target="—"
            [ "$id" = big ] && target="≥ 5×: $(verdict "$r" '>=' 5)"
            echo "| $label, req/s | $conc | $(calc %.0f "${RPS[verdaccio,$id,$conc]}") | $(calc %.0f "${RPS[cargoman,$id,$conc]}") | ${P99[cargoman,$id,$conc]} ms | ${r}× | $target |"
        done
    done
    for conc in 1 16; do
        flat=$(calc %.2f "${RPS[cargoman,big,$conc]} / ${RPS[cargoman,small,$conc]}")
        vflat=$(awk -v a="${RPS[verdaccio,big,$conc]}" -v b="${RPS[verdaccio,small,$conc]}" \
            'BEGIN {if (a > 0 && b > 0) printf "%.2f", a / b; else printf "—"}')
        echo "| packument rate $VERSIONS vs 20 versions | $conc | ${vflat}× | ${flat}× | | | ≥ 0.8×: $(verdict "$flat" '>=' 0.8) |"
    done
    echo "| publish, median of the first 20 (ms) | 1 | ${PUBLISH[verdaccio,first]} | ${PUBLISH[cargoman,first]} | | | — |"
    echo "| publish at $VERSIONS versions, median of the last 20 (ms) | 1 | ${PUBLISH[verdaccio,last]} | ${PUBLISH[cargoman,last]} | | $(calc %.1f "${PUBLISH[verdaccio,last]} / ${PUBLISH[cargoman,last]}")× faster | — |"
}

{
    echo "# npm registry against Verdaccio (bench/npm.sh)"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared by wrk, node, Verdaccio and Cargoman on"
    echo "loopback; load average before the reads $LOAD_START. Cargoman $GIT_REV$GIT_DIRTY, release build,"
    echo "SQLite + filesystem; Verdaccio $VERDACCIO_VERSION (node $(node --version)), file storage, htpasswd,"
    echo "JWT API tokens (its default legacy tokens cost a bcrypt check per request), log level warn. Both got the same publish bodies (\`bench/npm-publish.mjs\`); reads are authenticated"
    echo "(Bearer) and send npm's \`Accept\` for packuments. wrk \`-t1 -c1\` / \`-t2 -c16\`, \`-d$DURATION\`,"
    echo "best of $RUNS interleaved run(s). Abbreviated packuments: \`big\` $(wc -c <"$TMP/cargoman-big.json") bytes"
    echo "from Cargoman, $(wc -c <"$TMP/verdaccio-big.json") from Verdaccio; \`small\` $(wc -c <"$TMP/cargoman-small.json")"
    echo "and $(wc -c <"$TMP/verdaccio-small.json"). Cargoman VmRSS after the reads: $(calc %.1f "$RSS_KB / 1024") MiB."
    echo
    table
} >"$RESULTS"

results_block npm "## npm against Verdaccio (\`bench/npm.sh\`, $(date -u +%Y-%m-%d))" \
    "Details: [RESULTS-npm.md](RESULTS-npm.md)." table
cat "$RESULTS"
