#!/usr/bin/env bash
# Cargoman per-customer Composer metadata benchmark, on loopback, in one run.
#
#   1. Setup (not timed): 50 generated Git repositories (`bench/lib01` … `bench/lib50`, small PHP
#      libraries with 20 tags each, made with `git fast-import`), added with
#      `POST /api/v1/packages` and synced (every task polled until `done`); one customer granted
#      all 50 with varied constraints (`PUT /api/v1/customers/{id}/packages`); one team token.
#   2. Reads with wrk (1 and 16 connections):
#      a. `GET /p2/bench/lib01.json` as the customer (HTTP Basic `token:<tok_…>`): the filtered view;
#      b. the same path with the root token (unfiltered), and with a team token (unfiltered, but
#         its token row is checked like a customer's: splits token cost from filtering);
#      c. nginx serving the unfiltered bytes as a static file, no auth;
#      d. `GET /packages.json` with the customer token, the root token and (1 connection only)
#         a team token, all as HTTP Basic: what verifying each kind of token costs per request.
#   3. RSS of Cargoman after the runs.
#
# Writes bench/RESULTS-customers.md (re-running refreshes it). Needs root or sudo only to
# `apt-get install nginx wrk git jq` when they are missing.
#
# Environment knobs:
#   DURATION=10s          wrk duration per cell
#   RUNS=1                wrk runs of every cell (interleaved; the best by req/s is reported, all listed)
#   PACKAGES=50           number of generated packages (at least 6, so every constraint is used)
#   TAGS=20               tags per repository (v1.0.0, v1.0.1, v1.1.0 … two patches per minor,
#                         four minors per major)
#   SKIP_BUILD=1          use the existing target/release/cargoman without `cargo build --release`
#   CARGOMAN_BIN=path     use another binary (implies SKIP_BUILD)
#   PROFILE=1             also `perf record -g` Cargoman during one more filtered-p2 run
#                         (16 connections) and add the top of the profile to the results
#   KEEP_TMP=1            keep the temp dir (logs, db, repositories) after the run
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-customers.md"
DURATION=${DURATION:-10s}
RUNS=${RUNS:-1}
PACKAGES=${PACKAGES:-50}
TAGS=${TAGS:-20}
export LC_ALL=C # byte lengths for fast-import, stable sorting

[ "$PACKAGES" -ge 6 ] && [ "$PACKAGES" -le 99 ] || die "PACKAGES must be 6 to 99"
[ "$TAGS" -ge 1 ] && [ "$TAGS" -le 64 ] || die "TAGS must be 1 to 64"

# ---------------------------------------------------------------- dependencies
apt_ensure nginx wrk git jq
require_tools curl awk base64

# ---------------------------------------------------------------- build
build_cargoman

# ---------------------------------------------------------------- temp dir, cleanup
bench_tmp customers-bench


# ---------------------------------------------------------------- versions and grants
# Tag i is v{1 + i/8}.{(i%8)/2}.{i%2}: 1.0.0 1.0.1 1.1.0 … 1.3.1 2.0.0 … 3.1.1 for 20 tags.
version_of() { echo "$((1 + $1 / 8)).$((($1 % 8) / 2)).$(($1 % 2))"; }

# Package k (1-based) is granted CONSTRAINTS[(k-1) % 6]; allows() is what each should let through.
CONSTRAINTS=('^1.0' '>=1.2 <3.0' '~1.3' '*' '1.1.*' '^2.0 || ^3.0')
allows() { # constraint index, major, minor -> exit status
    local c=$1 maj=$2 min=$3
    case $c in
        0) [ "$maj" -eq 1 ] ;;
        1) { [ "$maj" -eq 1 ] && [ "$min" -ge 2 ]; } || [ "$maj" -eq 2 ] ;;
        2) [ "$maj" -eq 1 ] && [ "$min" -ge 3 ] ;;
        3) true ;;
        4) [ "$maj" -eq 1 ] && [ "$min" -eq 1 ] ;;
        5) [ "$maj" -ge 2 ] && [ "$maj" -le 3 ] ;;
    esac
}
expected_versions() { # constraint index -> the versions it allows, newest first, one a line
    local i v maj min
    for ((i = TAGS - 1; i >= 0; i--)); do
        v=$(version_of "$i")
        IFS=. read -r maj min _ <<<"$v"
        if allows "$1" "$maj" "$min"; then echo "$v"; fi
    done
}
pkg_name() { printf 'bench/lib%02d' "$1"; }

# ---------------------------------------------------------------- the repositories
# Each one a small PHP library: composer.json (its own name), README, LICENSE, five classes in
# src/; the first commit adds it all, each further commit changes src/Version.php and is tagged.
CLASSES=(Cache Config Parser Router Validator)

php_class() { # namespace class -> a small class
    cat <<EOF
<?php

declare(strict_types=1);

namespace Bench\\$1;

final class $2
{
    /** @var array<string, int> */
    private array \$items = [];

    public function add(string \$key, int \$value = 1): self
    {
        \$this->items[\$key] = (\$this->items[\$key] ?? 0) + \$value;

        return \$this;
    }

    public function total(): int
    {
        return array_sum(\$this->items);
    }
}
EOF
}

fast_import_stream() { # k -> the fast-import stream of package k
    local k=$1 i v msg content t=1700000000 ns name
    name=$(pkg_name "$k")
    ns=$(printf 'Lib%02d' "$k")
    emit() { printf 'M 100644 inline %s\ndata %d\n%s\n\n' "$1" $((${#2} + 1)) "$2"; }
    for ((i = 0; i < TAGS; i++)); do
        v=$(version_of "$i")
        msg="Release $v"
        content=$(printf '<?php\n\nnamespace Bench\\%s;\n\nfinal class Version\n{\n    public const VERSION = '"'"'%s'"'"';\n}' "$ns" "$v")
        printf 'commit refs/heads/main\nmark :%d\n' $((i + 1))
        printf 'author Bench Author <bench@example.org> %d +0000\n' $((t + i * 3600))
        printf 'committer Bench Author <bench@example.org> %d +0000\n' $((t + i * 3600))
        printf 'data %d\n%s\n' "${#msg}" "$msg"
        if [ "$i" -eq 0 ]; then
            emit composer.json "$(cat <<EOF
{
    "name": "$name",
    "description": "Library $k of the Cargoman customer benchmark",
    "type": "library",
    "license": "MIT",
    "require": {"php": ">=8.1", "psr/log": "^1.1 || ^2.0 || ^3.0"},
    "autoload": {"psr-4": {"Bench\\\\$ns\\\\": "src/"}}
}
EOF
)"
            emit README.md "$(printf '# %s\n\n```\ncomposer require %s\n```' "$name" "$name")"
            emit LICENSE "$(printf 'MIT License\n\nCopyright (c) 2024 Bench Author')"
            for c in "${CLASSES[@]}"; do
                emit "src/$c.php" "$(php_class "$ns" "$c")"
            done
        fi
        emit src/Version.php "$content"
        printf 'reset refs/tags/v%s\nfrom :%d\n\n' "$v" $((i + 1))
    done
}

log "generating $PACKAGES repositories with $TAGS tags each"
s=$(now)
mkdir -p "$TMP/repos"
for ((k = 1; k <= PACKAGES; k++)); do
    repo="$TMP/repos/$(printf 'lib%02d' "$k").git"
    git init -q --bare -b main "$repo"
    fast_import_stream "$k" | git -C "$repo" fast-import --quiet
done
[ "$(git -C "$TMP/repos/lib01.git" tag | wc -l)" -eq "$TAGS" ] || die "generated repository has the wrong number of tags"
echo "  $(elapsed "$s" "$(now)") s" >&2

# ---------------------------------------------------------------- Cargoman
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
STATE="$TMP/state"
start_cargoman "$STATE"
C_BASE="http://127.0.0.1:$CARGOMAN_PORT"

log "adding and syncing $PACKAGES packages"
s=$(now)
TASKS=()
for ((k = 1; k <= PACKAGES; k++)); do
    name=$(pkg_name "$k")
    body=$(jq -nc --arg n "$name" --arg u "file://$TMP/repos/$(printf 'lib%02d' "$k").git" \
        '{name: $n, repository_url: $u, type: "git"}')
    id=$(api POST /api/v1/packages "$body" | jq -r '.data.task.id')
    [[ "$id" =~ ^[0-9]+$ ]] || die "no task id in the create response for $name"
    TASKS+=("$id")
done
for id in "${TASKS[@]}"; do wait_task "$id" >/dev/null; done
SYNC_T=$(elapsed "$s" "$(now)")
echo "  $PACKAGES packages synced in ${SYNC_T} s" >&2

log "creating a customer, granting $PACKAGES packages, creating a team token"
CUSTOMER_JSON=$(api POST /api/v1/customers '{"name":"Bench Customer"}')
CUSTOMER_ID=$(jq -r '.data.id' <<<"$CUSTOMER_JSON")
CUSTOMER_TOKEN=$(jq -r '.data.token' <<<"$CUSTOMER_JSON")
[[ "$CUSTOMER_ID" == cust_* ]] && [[ "$CUSTOMER_TOKEN" == tok_* ]] || die "unexpected customer response: $CUSTOMER_JSON"
grants=$(for ((k = 1; k <= PACKAGES; k++)); do
    jq -nc --arg p "$(pkg_name "$k")" --arg c "${CONSTRAINTS[$(((k - 1) % 6))]}" '{package: $p, constraint: $c}'
done | jq -sc '{packages: .}')
GRANTED=$(api PUT "/api/v1/customers/$CUSTOMER_ID/packages" "$grants" | jq '.data | length')
[ "$GRANTED" -eq "$PACKAGES" ] || die "customer has $GRANTED grants, expected $PACKAGES"
TEAM_TOKEN=$(api POST /api/v1/tokens '{"name":"bench viewer","level":"viewer"}' | jq -r '.data.token')
[[ "$TEAM_TOKEN" == cma_* ]] || die "unexpected team token ${TEAM_TOKEN:0:8}…"

basic() { printf 'Authorization: Basic %s' "$(printf 'token:%s' "$1" | base64 -w0)"; }
H_CUSTOMER=$(basic "$CUSTOMER_TOKEN")
H_ROOT_BASIC=$(basic "$TOKEN")
H_TEAM=$(basic "$TEAM_TOKEN")
H_ROOT_BEARER="Authorization: Bearer $TOKEN"

# ---------------------------------------------------------------- correctness
log "checking every package's filtered p2 and the index"
P2=/p2/bench/lib01.json
curl -sSf -H "$H_ROOT_BEARER" -o "$TMP/root.json" "$C_BASE$P2" || die "GET $P2 as root failed"
ROOT_VERSIONS=$(jq '.packages["bench/lib01"] | length' "$TMP/root.json")
[ "$ROOT_VERSIONS" -eq "$TAGS" ] || die "root sees $ROOT_VERSIONS versions of bench/lib01, expected $TAGS"
for ((k = 1; k <= PACKAGES; k++)); do
    name=$(pkg_name "$k")
    c=$(((k - 1) % 6))
    got=$(curl -sSf -H "$H_CUSTOMER" "$C_BASE/p2/$name.json" | jq -r --arg p "$name" '.packages[$p][].version')
    want=$(expected_versions "$c")
    [ "$got" = "$want" ] || {
        diff <(echo "$want") <(echo "$got") >&2 || true
        die "customer's view of $name (${CONSTRAINTS[$c]}) lists other versions than expected"
    }
done
curl -sSf -H "$H_CUSTOMER" -o "$TMP/customer.json" "$C_BASE$P2"
CUST_VERSIONS=$(jq '.packages["bench/lib01"] | length' "$TMP/customer.json")
ROOT_BYTES=$(wc -c <"$TMP/root.json")
CUST_BYTES=$(wc -c <"$TMP/customer.json")
for h in "$H_CUSTOMER" "$H_ROOT_BASIC" "$H_TEAM"; do
    n=$(curl -sSf -H "$h" "$C_BASE/packages.json" | jq '."available-packages" | length')
    [ "$n" -eq "$PACKAGES" ] || die "/packages.json lists $n packages, expected $PACKAGES"
done
INDEX_BYTES=$(curl -sSf -H "$H_CUSTOMER" "$C_BASE/packages.json" | wc -c)
echo "  ok: lib01 ${CONSTRAINTS[0]} → $CUST_VERSIONS of $TAGS versions ($CUST_BYTES of $ROOT_BYTES bytes)" >&2

# ---------------------------------------------------------------- nginx
mkdir -p "$TMP/nginx/www/p2/bench"
cp "$TMP/root.json" "$TMP/nginx/www$P2"
start_nginx application/json
N_BASE="http://127.0.0.1:$NGINX_PORT"
curl -sSf "$N_BASE$P2" | cmp -s - "$TMP/root.json" || die "nginx served other bytes"

# ---------------------------------------------------------------- reads
# CELLS: id|label|url|connections|header
CELLS=()
for conc in 1 16; do
    CELLS+=("nginx|nginx, static file, no auth|$N_BASE$P2|$conc|")
    CELLS+=("cust|Cargoman, customer (filtered)|$C_BASE$P2|$conc|$H_CUSTOMER")
    CELLS+=("root|Cargoman, root (unfiltered)|$C_BASE$P2|$conc|$H_ROOT_BEARER")
    CELLS+=("team|Cargoman, team token (unfiltered)|$C_BASE$P2|$conc|$H_TEAM")
done
for conc in 1 16; do
    CELLS+=("icust|customer token \`tok_…\`|$C_BASE/packages.json|$conc|$H_CUSTOMER")
    CELLS+=("iroot|root \`ADMIN_TOKEN\`|$C_BASE/packages.json|$conc|$H_ROOT_BASIC")
done
CELLS+=("iteam|team token \`cma_…\` (viewer)|$C_BASE/packages.json|1|$H_TEAM")

RSS_IDLE=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$CARGOMAN_PID/status")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RPS ERRS P50 P99 ALL LABEL
SERVED=0 # requests Cargoman answered during the reads (req/s × duration), for the RSS note
dur_s() { awk -v d="$DURATION" 'BEGIN {n = d + 0; if (d ~ /m$/) n *= 60; else if (d ~ /h$/) n *= 3600; print n}'; }
for run in $(seq "$RUNS"); do
    for cell in "${CELLS[@]}"; do
        IFS='|' read -r id label url conc hdr <<<"$cell"
        # The team token once only, whatever RUNS says.
        [ "$id" = iteam ] && [ "$run" -gt 1 ] && continue
        log "run $run: $label, ${url#http://127.0.0.1:*/}, $conc connection(s), $DURATION"
        read -r r e p5 p9 < <(wrk_cell "$url" "$conc" "$hdr")
        echo "  $r req/s, $e errors, p50 $p5 ms, p99 $p9 ms" >&2
        key="$id,$conc"
        [ "$id" = nginx ] || SERVED=$((SERVED + $(calc %.0f "$r * $(dur_s)")))
        LABEL[$key]=$label
        ALL[$key]="${ALL[$key]:-}${ALL[$key]:+ }$(calc %.0f "$r")"
        if [ -z "${RPS[$key]:-}" ] || awk -v a="$r" -v b="${RPS[$key]}" 'BEGIN {exit !(a > b)}'; then
            RPS[$key]=$r ERRS[$key]=$e P50[$key]=$p5 P99[$key]=$p9
        fi
    done
done
RSS_AFTER=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$CARGOMAN_PID/status")
HWM_AFTER=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$CARGOMAN_PID/status")

# ---------------------------------------------------------------- optional profile
PROFILE_TXT=""
if [ "${PROFILE:-0}" = 1 ]; then
    log "profiling Cargoman with perf during one more filtered p2 run (16 connections)"
    perf record -q -g -o "$TMP/perf.data" -p "$CARGOMAN_PID" 2>"$TMP/perf.log" &
    HELPER_PID=$!
    sleep 0.5
    read -r r _ < <(wrk_cell "$C_BASE$P2" 16 "$H_CUSTOMER")
    kill -INT "$HELPER_PID"
    wait "$HELPER_PID" || true
    HELPER_PID=""
    echo "  profiled run: $r req/s" >&2
    PROFILE_TXT=$(perf report -i "$TMP/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -E '^ +[0-9]+\.[0-9]+%' | sed -n 1,40p) # sed, not head: no SIGPIPE under pipefail
fi

# ---------------------------------------------------------------- report
NPROC=$(nproc)
CPU=$(lscpu | awk -F: '/Model name/ && !done {gsub(/^ +/, "", $2); print $2; done = 1}')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
NGINX_V=$( ("$NGINX" -v 2>&1 || true) | sed 's/^nginx version: //')
WRK_V=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')

ratio() { calc "%.2f" "(${RPS[$2]} > 0) ? ${RPS[$1]} / ${RPS[$2]} : 0"; }
# Extra time per request of one token kind against another: at one connection from the mean
# latency (1 / req/s), at 16 from the throughput (machine time per request, both cores).
extra_us() { calc "%.0f" "1e6 / ${RPS[$1]} - 1e6 / ${RPS[$2]}"; }
p50_diff_us() { calc "%.0f" "(${P50[$1]} - ${P50[$2]}) * 1000"; }

row() { # key -> table cells: req/s, mean time per request (µs), p50, p99, errors, all runs
    echo "$(calc %.0f "${RPS[$1]}") | $(calc %.0f "${1#*,} * 1e6 / ${RPS[$1]}") µs | ${P50[$1]} ms | ${P99[$1]} ms | ${ERRS[$1]} | ${ALL[$1]}"
}

{
    echo "# Cargoman per-customer Composer metadata benchmark"
    echo
    echo "Generated by \`bench/customers.sh\` — re-run it to refresh this file. Everything runs on loopback"
    echo "(127.0.0.1) on one machine, so the load generator and the servers share the CPUs."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| CPU | $CPU, $NPROC CPUs (\`nproc\`) |"
    echo "| Memory | $MEM |"
    echo "| Kernel | $(uname -sr) |"
    echo "| Load average before the reads | $LOAD_START (other work on the machine skews every cell) |"
    echo "| Cargoman | $GIT_REV$GIT_DIRTY, release build, SQLite + filesystem storage, \`TASK_SYNC_INTERVAL=0\` |"
    echo "| nginx | $NGINX_V (\`sendfile on\`, \`worker_processes auto\`, access log off) |"
    echo "| wrk | $WRK_V (\`-t1 -c1\` / \`-t2 -c16\`, \`-d$DURATION\`, best of $RUNS run(s) by req/s) |"
    echo
    echo "## Setup (not timed)"
    echo
    echo "- $PACKAGES Git repositories generated with \`git fast-import\`: \`bench/lib01\` … \`$(pkg_name "$PACKAGES")\`,"
    echo "  each a small PHP library with $TAGS tags (\`v1.0.0\`, \`v1.0.1\`, \`v1.1.0\` … \`v$(version_of $((TAGS - 1)))\`)."
    echo "- Added with \`POST /api/v1/packages {\"name\",\"repository_url\":\"file://…\",\"type\":\"git\"}\`;"
    echo "  all $PACKAGES sync tasks done ${SYNC_T} s after the first POST."
    echo "- One customer (\`POST /api/v1/customers\`), granted all $PACKAGES packages in one"
    echo "  \`PUT /api/v1/customers/{id}/packages\`; package k gets constraint k mod 6 of"
    echo "  $(printf '`%s`, ' "${CONSTRAINTS[@]}" | sed 's/, $//')."
    echo "  Checked: every package's p2 as the customer lists exactly the versions its constraint allows."
    echo "- \`$P2\` (granted \`${CONSTRAINTS[0]}\`): unfiltered $ROOT_VERSIONS versions, $ROOT_BYTES bytes;"
    echo "  the customer's view $CUST_VERSIONS versions, $CUST_BYTES bytes. nginx serves the unfiltered bytes"
    echo "  (fetched from Cargoman as root) as a static file in a \`location\` without auth."
    echo "- \`/packages.json\`: $INDEX_BYTES bytes, $PACKAGES \`available-packages\` for every token used."
    echo
    echo "## Metadata reads: \`GET $P2\`"
    echo
    echo "The customer sends HTTP Basic \`token:tok_…\` as Composer does; root sends"
    echo "\`Authorization: Bearer ADMIN_TOKEN\`; a team token (\`cma_…\`, viewer, HTTP Basic) sees the"
    echo "unfiltered document like root but has its row checked like the customer's."
    echo "Target: customer-filtered ≥ 0.5× nginx."
    echo
    echo "| Server / caller | Conns | req/s | mean (conns / req/s) | p50 | p99 | errors | all runs (req/s) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for conc in 1 16; do
        for id in nginx cust root team; do
            echo "| ${LABEL[$id,$conc]} | $conc | $(row "$id,$conc") |"
        done
    done
    echo
    echo "| Conns | customer-filtered / nginx | Target ≥ 0.5× | root / nginx | team / nginx | customer / root | token read: team − root | filtering: customer − team |"
    echo "|---:|---:|---|---:|---:|---:|---:|---:|"
    for conc in 1 16; do
        cr=$(ratio "cust,$conc" "nginx,$conc")
        echo "| $conc | ${cr}× | $(verdict "$cr" ">=" 0.5) | $(ratio "root,$conc" "nginx,$conc")× | $(ratio "team,$conc" "nginx,$conc")× | $(ratio "cust,$conc" "root,$conc")× | $(extra_us "team,$conc" "root,$conc") µs | $(extra_us "cust,$conc" "team,$conc") µs |"
    done
    echo
    echo "The last two columns are differences of 1 / req/s (per request at one connection; machine time"
    echo "per request, both cores, at 16): what reading the token row costs, and what the customer's"
    echo "filtered view adds on top of that."
    echo
    echo "## Token verification: \`GET /packages.json\`"
    echo
    echo "The same $INDEX_BYTES-byte answer for every token (all $PACKAGES packages granted), each sent as"
    echo "HTTP Basic. The root token is checked against its SHA-256 in memory; a team or customer token"
    echo "by a fingerprint cache plus its row (joined with its customer), reused for AUTH_CACHE_TTL_MS."
    echo
    echo "| Token | Conns | req/s | mean (conns / req/s) | p50 | p99 | errors | all runs (req/s) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for key in "icust,1" "iroot,1" "iteam,1" "icust,16" "iroot,16"; do
        echo "| ${LABEL[$key]} | ${key#*,} | $(row "$key") |"
    done
    echo
    echo "| Derived | customer vs root | team vs root |"
    echo "|---|---:|---:|"
    echo "| req/s ratio, 1 connection | $(ratio icust,1 iroot,1)× | $(ratio iteam,1 iroot,1)× |"
    echo "| req/s ratio, 16 connections | $(ratio icust,16 iroot,16)× | |"
    echo "| extra µs/request, 1 connection (mean latency, 1/req/s) | $(extra_us icust,1 iroot,1) µs | $(extra_us iteam,1 iroot,1) µs |"
    echo "| extra µs/request, 1 connection (p50) | $(p50_diff_us icust,1 iroot,1) µs | $(p50_diff_us iteam,1 iroot,1) µs |"
    echo "| extra machine time/request, 16 connections (1/req/s) | $(extra_us icust,16 iroot,16) µs | |"
    echo
    echo "## Memory"
    echo
    echo "| Cargoman | MiB |"
    echo "|---|---:|"
    echo "| VmRSS after the syncs, before the reads | $RSS_IDLE |"
    echo "| VmRSS after the reads ($(calc %.1f "$SERVED / 1e6") M requests answered, \`/metrics\` never scraped) | $RSS_AFTER |"
    echo "| VmHWM (peak, whole run including the syncs) | $HWM_AFTER |"
    if [ -n "$PROFILE_TXT" ]; then
        echo
        echo "## Profile of one filtered p2 run, 16 connections (\`PROFILE=1\`)"
        echo
        echo "\`perf record -g -p PID\` during the run, \`perf report --no-children --sort dso,sym\`, top entries:"
        echo
        echo '```'
        printf '%s\n' "$PROFILE_TXT"
        echo '```'
    fi
} >"$RESULTS"

log "results written to $RESULTS"
cat "$RESULTS"
