#!/usr/bin/env bash
# The security review's token flood, bounded in time, on loopback: 128 connections presenting a
# new random token on every request for FLOOD_SECONDS, while a client with a valid token keeps
# downloading a 1 MiB Generic file. Reports the server's peak and after-flood memory and the
# valid download's p99 latency, per kind of flood:
#
#   random        `Bearer x<random>` against the default setup (generated root token, Argon2 hash)
#   root-shaped   `cmr_<random 32>`: the generated root token's shape with a wrong lookup, with
#                 AUTH_FAILURE_LIMIT=0 (as if the flood came from many addresses): never hashed
#   known-lookup  a real team token's lookup prefix + random rest, AUTH_FAILURE_LIMIT=0: every
#                 guess is a real Argon2 check, as many as the bounded queue takes
#
# Targets (issue 9): server RSS under 200 MiB, valid download p99 under 50 ms.
# Writes bench/RESULTS-auth.md. Knobs: FLOOD_SECONDS=6, SKIP_BUILD=1, CARGOMAN_BIN=path, KEEP_TMP=1.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-auth.md"
FLOOD_SECONDS=${FLOOD_SECONDS:-6}

apt_ensure wrk
require_tools curl awk jq
build_cargoman
bench_tmp auth-flood
head -c 1048576 /dev/urandom >"$TMP/file.bin"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$CARGOMAN_PID/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$CARGOMAN_PID/status"; }

# Starts a fresh server with the given settings, publishes the file and makes a viewer token
# (used once, as a real client would have); sets VALID.
prepare() { # state-name [KEY=VALUE ...]
    local name=$1
    shift
    TOKEN="" CARGOMAN_ENV="$*" start_cargoman "$TMP/$name"
    TOKEN=$(grep -o 'ADMIN_TOKEN=cmr_[A-Za-z0-9]*' "$TMP/$name/cargoman.log" | cut -d= -f2)
    [ -n "$TOKEN" ] || die "no generated root token in the log"
    curl -sSf -o /dev/null --user "admin:$TOKEN" --upload-file "$TMP/file.bin" \
        "http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/generic/tool/1.0/file.bin"
    VALID=$(api POST /api/v1/tokens '{"name":"bench","level":"viewer"}' | jq -r .data.token)
    curl -sSf -o /dev/null -H "Authorization: Bearer $VALID" "$(file_url)"
}

file_url() { echo "http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/generic/tool/1.0/file.bin"; }

# Floods with FLOOD_PREFIX + FLOOD_LEN random characters while measuring the valid download.
# Prints one table row.
flood() { # label prefix len
    local label=$1 prefix=$2 len=$3 peak=0 rss pid
    FLOOD_PREFIX=$prefix FLOOD_LEN=$len wrk -t1 -c128 -d"${FLOOD_SECONDS}s" -s "$BENCH_DIR/flood.lua" \
        "$(file_url)" >"$TMP/flood.out" 2>&1 &
    pid=$!
    wrk -t1 -c4 -d"${FLOOD_SECONDS}s" --latency -H "Authorization: Bearer $VALID" "$(file_url)" \
        >"$TMP/valid.out" 2>&1 &
    local valid_pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        rss=$(rss_kib)
        [ "$rss" -gt "$peak" ] && peak=$rss
        sleep 0.1
    done
    wait "$pid" "$valid_pid"
    sleep 2
    local after p99 statuses reqs
    after=$(rss_kib)
    p99=$(awk '$1 == "99%" {print $2}' "$TMP/valid.out")
    reqs=$(awk '/requests in/ {print $1}' "$TMP/flood.out")
    statuses=$(sed -n 's/^statuses //p' "$TMP/flood.out")
    printf '| %s | %s (%s) | %s MiB | %s MiB | %s | %s |\n' "$label" "$reqs" "$statuses" \
        "$(calc %.0f "$peak / 1024")" "$(calc %.0f "$after / 1024")" "$p99" \
        "$(verdict "$(calc %.0f "$peak / 1024")" '<' 200)"
}

baseline() {
    wrk -t1 -c4 -d"${FLOOD_SECONDS}s" --latency -H "Authorization: Bearer $VALID" "$(file_url)" >"$TMP/valid.out" 2>&1
    awk '$1 == "99%" {print $2}' "$TMP/valid.out"
}

rows=()
prepare default
base_p99=$(baseline)
rows+=("$(flood "random \`x…\` (default settings)" x 40)")
hwm_default=$(hwm_kib)
stop_cargoman

prepare unlimited AUTH_FAILURE_LIMIT=0
rows+=("$(flood "root-shaped \`cmr_…\`, AUTH_FAILURE_LIMIT=0" cmr_ 32)")
lookup=${VALID:0:12}
rows+=("$(flood "known lookup \`${lookup:0:4}…\` + random, AUTH_FAILURE_LIMIT=0" "$lookup" 24)")
hwm_unlimited=$(hwm_kib)
stop_cargoman

{
    echo "# Token flood (bench/auth_flood.sh)"
    echo
    echo "Run $(date -u +%Y-%m-%d) on $(nproc) cores, loopback, build $GIT_REV$GIT_DIRTY. 128 connections"
    echo "present a new random token on every request for ${FLOOD_SECONDS} s while 4 connections with a valid"
    echo "viewer token download a 1 MiB Generic file. The review measured 10.8 GB of server memory, kept"
    echo "afterwards, for the first row before the fix."
    echo
    echo "| flood | flood requests (statuses) | server RSS peak | RSS 2 s after | valid download p99 | RSS < 200 MiB |"
    echo "| --- | --- | --- | --- | --- | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "- Valid download p99 without a flood: $base_p99 (target during a flood: under 50 ms)."
    echo "- Peak RSS over each server's life (VmHWM): $(calc %.0f "$hwm_default / 1024") MiB (default settings), $(calc %.0f "$hwm_unlimited / 1024") MiB (no failure limit)."
    echo "- 401: refused after AUTH_FAILURE_DELAY_MS; 429: the client's failure limit reached, refused without work;"
    echo "  503: the Argon2 queue was full, refused at once."
} >"$RESULTS"
cat "$RESULTS"
