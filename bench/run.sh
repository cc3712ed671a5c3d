#!/usr/bin/env bash
# Cargoman Generic-registry benchmark against peers, on loopback, in one run.
#
#   1. GET of a 1 MiB and a 100 MiB generic file, 1 and 16 concurrent clients (wrk),
#      Cargoman vs nginx (static files, sendfile on) serving the same bytes.
#   2. PUT of a 1 GiB file to Cargoman (curl) vs `openssl dgst -sha256` on the same file,
#      plus the peak RSS of the Cargoman process during the upload.
#
# Writes bench/RESULTS.md (re-running refreshes it). Needs root or sudo only to
# `apt-get install nginx wrk` when they are missing.
#
# Environment knobs:
#   DURATION=10s          wrk duration per cell
#   SKIP_BUILD=1          use the existing target/release/cargoman without `cargo build --release`
#   CARGOMAN_BIN=path     use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1            keep the temp dir (logs, db) after the run
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS.md"
DURATION=${DURATION:-10s}
MIB=1048576


# ---------------------------------------------------------------- dependencies
apt_ensure nginx wrk
require_tools curl openssl awk

# ---------------------------------------------------------------- build
build_cargoman

# ---------------------------------------------------------------- temp dir, cleanup
bench_tmp bench


# ---------------------------------------------------------------- test files
log "creating test files in $TMP"
mkdir -p "$TMP/files"
head -c $((1 * MIB)) /dev/urandom >"$TMP/files/small.bin"
head -c $((100 * MIB)) /dev/urandom >"$TMP/files/medium.bin"
head -c $((1024 * MIB)) /dev/urandom >"$TMP/files/big.bin"

# ---------------------------------------------------------------- nginx
mkdir -p "$TMP/nginx/www/api/packages/bench/generic/files/1.0"
cp "$TMP/files/small.bin" "$TMP/files/medium.bin" "$TMP/nginx/www/api/packages/bench/generic/files/1.0/"
start_nginx application/octet-stream

# ---------------------------------------------------------------- Cargoman
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_cargoman "$TMP/state"

C_BASE="http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/generic/files/1.0"
N_BASE="http://127.0.0.1:$NGINX_PORT/api/packages/bench/generic/files/1.0"

put_file() { # file name -> prints "http_code time_total"
    curl -sS --user "admin:$TOKEN" --upload-file "$1" -o "$TMP/put.out" \
        -w '%{http_code} %{time_total}\n' "$C_BASE/$2"
}

# ---------------------------------------------------------------- 2. upload (first, so VmHWM is about it)
log "upload: 1 GiB file, page cache warm"
cat "$TMP/files/big.bin" >/dev/null
rss_max() { # pid -> sample VmRSS (kB) every 50 ms into $TMP/rss.max until killed
    local pid=$1 max=0 v
    while :; do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
        [ -n "$v" ] || break
        if [ "$v" -gt "$max" ]; then max=$v; echo "$max" >"$TMP/rss.max"; fi
        sleep 0.05
    done
}
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$CARGOMAN_PID/status")
# Reset the process's peak-RSS counter so VmHWM covers only the upload (Linux >= 4.0).
HWM_RESET=yes
echo 5 >"/proc/$CARGOMAN_PID/clear_refs" 2>/dev/null || HWM_RESET=no

UP_RUNS=3
UP_TIMES=()
SHA_TIMES=()
DD_TIMES=()
for run in $(seq $UP_RUNS); do
    cat "$TMP/files/big.bin" >/dev/null
    sync
    s=$(date +%s.%N)
    openssl dgst -sha256 "$TMP/files/big.bin" >"$TMP/sha.out"
    e=$(date +%s.%N)
    SHA_TIMES+=("$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f", e - s}')")
    echo "  openssl dgst -sha256 run $run: ${SHA_TIMES[-1]}s" >&2
done
want_sha=$(awk '{print $NF}' "$TMP/sha.out")
# Disk reference (not a target): what writing 1 GiB and flushing it to this disk costs.
for run in 1 2; do
    sync
    s=$(date +%s.%N)
    dd if="$TMP/files/big.bin" of="$TMP/dd.out" bs=1M conv=fdatasync status=none
    e=$(date +%s.%N)
    DD_TIMES+=("$(awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f", e - s}')")
    rm -f "$TMP/dd.out"
    echo "  dd write + fdatasync run $run: ${DD_TIMES[-1]}s" >&2
done

echo 0 >"$TMP/rss.max"
rss_max "$CARGOMAN_PID" &
HELPER_PID=$!
for run in $(seq $UP_RUNS); do
    cat "$TMP/files/big.bin" >/dev/null
    sync # earlier dirty pages must not be written back during the timed run
    read -r code t < <(put_file "$TMP/files/big.bin" "big-$run.bin")
    [ "$code" = 201 ] || { cat "$TMP/put.out" >&2; die "PUT of 1 GiB returned $code"; }
    UP_TIMES+=("$t")
    echo "  curl PUT run $run: ${t}s" >&2
    # Cargoman must have stored the right bytes.
    got_sha=$(curl -sSf -I -H "Authorization: Bearer $TOKEN" "$C_BASE/big-$run.bin" |
        awk -F': ' 'tolower($1) == "x-checksum-sha256" {print $2}' | tr -d '\r')
    [ "$got_sha" = "$want_sha" ] || die "stored 1 GiB file has sha256 '$got_sha', expected $want_sha"
    # Delete it (and so its blob), so that every run stores new content rather than
    # taking the duplicate-content path.
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "$C_BASE/big-$run.bin")
    [ "$code" = 204 ] || die "DELETE of big-$run.bin returned $code"
done
kill "$HELPER_PID" 2>/dev/null || true
wait "$HELPER_PID" 2>/dev/null || true
HELPER_PID=""
RSS_PEAK_KB=$(cat "$TMP/rss.max")
HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$CARGOMAN_PID/status")

UP_T=$(min_of "${UP_TIMES[@]}")
SHA_T=$(min_of "${SHA_TIMES[@]}")
DD_T=$(min_of "${DD_TIMES[@]}")

# ---------------------------------------------------------------- 1. downloads
log "uploading the 1 MiB and 100 MiB files to Cargoman"
for f in small medium; do
    read -r code _ < <(put_file "$TMP/files/$f.bin" "$f.bin")
    [ "$code" = 201 ] || { cat "$TMP/put.out" >&2; die "PUT of $f.bin returned $code"; }
done
for f in small medium; do # correctness + warm-up
    curl -sSf -H "Authorization: Bearer $TOKEN" "$C_BASE/$f.bin" | cmp -s - "$TMP/files/$f.bin" ||
        die "Cargoman served a different $f.bin"
    curl -sSf "$N_BASE/$f.bin" | cmp -s - "$TMP/files/$f.bin" || die "nginx served a different $f.bin"
done

# wrk_cell server file conc -> "req_s errors"
wrk_cell() {
    local server=$1 file=$2 conc=$3 url threads out rps errs
    local -a hdr=()
    if [ "$server" = cargoman ]; then
        url="$C_BASE/$file"
        hdr=(-H "Authorization: Bearer $TOKEN")
    else
        url="$N_BASE/$file"
    fi
    threads=1
    [ "$conc" -gt 1 ] && threads=2
    out=$(wrk -t"$threads" -c"$conc" -d"$DURATION" --timeout 60s "${hdr[@]}" "$url")
    printf '%s\n' "$out" >>"$TMP/wrk.log"
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
    errs=$(printf '%s\n' "$out" | awk '
        /Non-2xx or 3xx responses:/ {n += $NF}
        /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
        END {print n + 0}')
    echo "${rps:-0} $errs"
}

declare -A RPS ERRS
for file in small medium; do
    for conc in 1 16; do
        for server in nginx cargoman; do
            log "GET $file.bin, $conc client(s), $server, $DURATION"
            read -r r e < <(wrk_cell "$server" "$file.bin" "$conc")
            RPS[$server,$file,$conc]=$r
            ERRS[$server,$file,$conc]=$e
            echo "  $r req/s, $e errors" >&2
        done
    done
done

# ---------------------------------------------------------------- report

NPROC=$(nproc)
CPU=$(lscpu | awk -F: '/Model name/ && !done {gsub(/^ +/, "", $2); print $2; done = 1}')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
NGINX_V=$( ("$NGINX" -v 2>&1 || true) | sed 's/^nginx version: //')
WRK_V=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
OPENSSL_V=$(openssl version)
CURL_V=$(curl --version | awk 'NR == 1 {print $1, $2}')
GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (+ uncommitted changes)" || true)

{
    echo "# Cargoman benchmark results"
    echo
    echo "Generated by \`bench/run.sh\` — re-run it to refresh this file. Everything runs on loopback"
    echo "(127.0.0.1) on one machine, so the load generator and the server share the CPUs."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| CPU | $CPU, $NPROC CPUs (\`nproc\`) |"
    echo "| Memory | $MEM |"
    echo "| Kernel | $(uname -sr) |"
    echo "| Cargoman | $GIT_REV$GIT_DIRTY, release build, SQLite + filesystem storage |"
    echo "| nginx | $NGINX_V (\`sendfile on\`, \`worker_processes auto\`, access log off) |"
    echo "| wrk | $WRK_V (\`-t1 -c1\` / \`-t2 -c16\`, \`-d$DURATION\`) |"
    echo "| openssl | $OPENSSL_V |"
    echo "| curl | $CURL_V |"
    echo
    echo "## 1. Generic file download (GET)"
    echo
    echo "MiB/s is payload (requests/s × file size). Target: Cargoman ≥ 0.9× nginx."
    echo
    echo "| File | Clients | nginx req/s | nginx MiB/s | Cargoman req/s | Cargoman MiB/s | Cargoman/nginx | Target ≥ 0.9× | Errors (nginx/Cargoman) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
    for file in small medium; do
        if [ $file = small ]; then size=1; label="1 MiB"; else size=100; label="100 MiB"; fi
        for conc in 1 16; do
            n=${RPS[nginx,$file,$conc]}
            c=${RPS[cargoman,$file,$conc]}
            ratio=$(calc "%.2f" "($n > 0) ? $c / $n : 0")
            echo "| $label | $conc | $(calc %.1f "$n") | $(calc %.0f "$n * $size") | $(calc %.1f "$c") | $(calc %.0f "$c * $size") | ${ratio}× | $(verdict "$ratio" ">=" 0.9) | ${ERRS[nginx,$file,$conc]}/${ERRS[cargoman,$file,$conc]} |"
        done
    done
    echo
    echo "## 2. Generic file upload (PUT, 1 GiB)"
    echo
    echo "Best of $UP_RUNS runs each; the file is in the page cache for both, \`sync\` before each run;"
    echo "each uploaded file is deleted again so every run stores new content. The upload is"
    echo "\`curl --user admin:TOKEN --upload-file FILE URL\` (time_total, through 201);"
    echo "the hashing limit is \`openssl dgst -sha256 FILE\`. Cargoman flushes (fsync) the blob before"
    echo "answering, so the upload also includes a disk flush; the \`dd\` row shows what that costs here."
    echo
    up_gibs=$(calc %.3f "1 / $UP_T")
    sha_gibs=$(calc %.3f "1 / $SHA_T")
    up_ratio=$(calc %.2f "$up_gibs / $sha_gibs")
    rss_mib=$(calc %.1f "$RSS_PEAK_KB / 1024")
    hwm_mib=$(calc %.1f "$HWM_KB / 1024")
    echo "| Measure | Value | Target | |"
    echo "|---|---:|---|---|"
    echo "| openssl SHA-256 rate | $sha_gibs GiB/s (${SHA_T} s; runs: ${SHA_TIMES[*]}) | | |"
    echo "| Cargoman PUT rate | $up_gibs GiB/s (${UP_T} s; runs: ${UP_TIMES[*]}) | | |"
    echo "| Cargoman / openssl | ${up_ratio}× | ≥ 0.6× | $(verdict "$up_ratio" ">=" 0.6) |"
    echo "| Peak VmRSS during upload (sampled every 50 ms) | $rss_mib MiB | < 64 MiB | $(verdict "$rss_mib" "<" 64) |"
    echo "| VmHWM after upload$([ $HWM_RESET = yes ] && echo " (reset before it)" || echo " (whole process life)") | $hwm_mib MiB | < 64 MiB | $(verdict "$hwm_mib" "<" 64) |"
    echo "| Reference: \`dd bs=1M conv=fdatasync\` of the file (disk write + flush) | $(calc %.3f "1 / $DD_T") GiB/s (${DD_T} s; runs: ${DD_TIMES[*]}) | | |"
    echo "| VmRSS idle, before upload | $(calc %.1f "$RSS_IDLE_KB / 1024") MiB | | |"
    echo
    echo "Composer (Git sync, \`p2\` against nginx): [RESULTS-composer.md](RESULTS-composer.md) from"
    echo "\`bench/composer.sh\`. Customers (filtered \`p2\`, token checks): [RESULTS-customers.md](RESULTS-customers.md)"
    echo "from \`bench/customers.sh\`."
    echo "Token floods: [RESULTS-auth.md](RESULTS-auth.md) from \`bench/auth_flood.sh\`."
    # The tables other scripts keep in this file (`results_block`: read path, npm, container)
    # survive a re-run.
    if [ -f "$RESULTS" ]; then
        for block in $(sed -n 's/^<!-- \([a-z-]*\) -->$/\1/p' "$RESULTS"); do
            echo
            sed -n "/^<!-- $block -->\$/,/^<!-- \\/$block -->\$/p" "$RESULTS"
        done
    fi
} >"$RESULTS.new"
mv "$RESULTS.new" "$RESULTS"

log "results written to $RESULTS"
cat "$RESULTS"
