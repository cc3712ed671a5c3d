#!/usr/bin/env bash
# Cargoman's Go module proxy against nginx serving the same GOPROXY layout as static files, on
# loopback, in one run (issue 15).
#
#   `go mod download` of a consumer requiring MODULES modules, each into an empty module cache
#   (and build cache): the go command asks each module's `@v/list` parents, then its `.info`,
#   `.mod` and `.zip`. The same zips are uploaded to Cargoman (`PUT upload`) and written into
#   nginx's root as `{module}/@v/{list,version.info,version.mod,version.zip}`.
#
# Target: ≥ 0.9× nginx (ratio = nginx's time / Cargoman's). Writes bench/RESULTS-go.md and its
# block in bench/RESULTS.md. Cargoman: SQLite + filesystem, a public owner (over http the go
# command sends no credentials); nginx: no credentials.
#
# Environment knobs:
#   MODULES=50        modules the consumer requires
#   RUNS=9            downloads are timed RUNS times per side, interleaved; the best counts
#   SKIP_BUILD=1      use the existing target/release/cargoman
#   CARGOMAN_BIN=path use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1        keep the temp dir (logs, storage)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-go.md"
MODULES=${MODULES:-50}
RUNS=${RUNS:-9}
VERSION=v1.0.0

apt_ensure nginx
require_tools curl awk go python3

build_cargoman
bench_tmp go-bench

# ---------------------------------------------------------------- servers
TOKEN="bench-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
start_cargoman "$TMP/cargoman"
start_nginx application/octet-stream

declare -A URL
URL[cm]="http://127.0.0.1:$CARGOMAN_PORT/api/packages/bench/go"
URL[ng]="http://127.0.0.1:$NGINX_PORT/go"

module_name() { printf 'bench.example/m%02d' "$1"; }

# ---------------------------------------------------------------- modules
# Each module: go.mod and a few source files of some kilobytes, zipped as the go command lays
# a module zip out; the same bytes go to both servers.
log "making $MODULES module zips"
mkdir -p "$TMP/zips"
python3 - "$TMP/zips" "$MODULES" "$VERSION" <<'PY'
import sys, zipfile
out, count, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(1, count + 1):
    module = f"bench.example/m{i:02d}"
    with zipfile.ZipFile(f"{out}/m{i:02d}.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{module}@{version}/go.mod", f"module {module}\n\ngo 1.19\n")
        for f in range(4):
            body = "".join(f"// line {n} of file {f} in module {i}\n" for n in range(200))
            z.writestr(f"{module}@{version}/f{f}.go", f"package m{i:02d}\n\n{body}func F{f}() int {{ return {f} }}\n")
PY
for i in $(seq "$MODULES"); do
    module=$(module_name "$i")
    zip="$TMP/zips/m$(printf '%02d' "$i").zip"
    code=$(curl -s -o "$TMP/upload.out" -w '%{http_code}' -u "bench:$TOKEN" -X PUT \
        --data-binary "@$zip" "${URL[cm]}/upload")
    [ "$code" = 201 ] || { cat "$TMP/upload.out" >&2; die "upload of $module returned $code"; }
    dir="$TMP/nginx/www/go/$module/@v"
    mkdir -p "$dir"
    cp "$zip" "$dir/$VERSION.zip"
    printf 'module %s\n\ngo 1.19\n' "$module" >"$dir/$VERSION.mod"
    echo "$VERSION" >"$dir/list"
    printf '{"Version":"%s","Time":"2026-01-01T00:00:00Z"}' "$VERSION" >"$dir/$VERSION.info"
done
chmod -R a+rX "$TMP/nginx/www"
api PATCH /api/v1/owners/bench '{"visibility":"public"}' >/dev/null

# ---------------------------------------------------------------- consumer
mkdir -p "$TMP/consumer"
{
    printf 'module bench.example/consumer\n\ngo 1.19\n\nrequire (\n'
    for i in $(seq "$MODULES"); do printf '\t%s %s\n' "$(module_name "$i")" "$VERSION"; done
    printf ')\n'
} >"$TMP/consumer/go.mod"

WANTED=()
for i in $(seq "$MODULES"); do WANTED+=("$(module_name "$i")@$VERSION"); done

download() { # side -> seconds of `go mod download` into an empty module cache
    local side=$1 start
    rm -rf "$TMP/gohome"
    mkdir -p "$TMP/gohome"
    sync
    start=$(now)
    (cd "$TMP/consumer" && env HOME="$TMP/gohome" GOPATH="$TMP/gohome/gopath" \
        GOMODCACHE="$TMP/gohome/modcache" GOCACHE="$TMP/gohome/cache" GOFLAGS=-modcacherw \
        GOPROXY="${URL[$side]}" GONOSUMDB=bench.example GO111MODULE=on \
        go mod download "${WANTED[@]}") >"$TMP/go.log" 2>&1 || { cat "$TMP/go.log" >&2; die "go mod download from $side failed"; }
    elapsed "$start" "$(now)"
    [ -f "$TMP/gohome/modcache/cache/download/$(module_name "$MODULES")/@v/$VERSION.zip" ] ||
        die "go mod download from $side fetched no zip"
}

declare -A BEST
keep_best() { # key seconds
    if [ -z "${BEST[$1]:-}" ] || awk -v a="$2" -v b="${BEST[$1]}" 'BEGIN {exit !(a < b)}'; then
        BEST[$1]=$2
    fi
}
for run in $(seq "$RUNS"); do
    for side in cm ng; do
        log "run $run of $RUNS: $side: go mod download of $MODULES modules"
        t=$(download "$side")
        echo "$t" >>"$TMP/times-$side"
        keep_best "$side" "$t"
    done
done
rm -rf "$TMP/gohome"

ratio() { calc "%.2f" "$1 / $2"; }
median() { sort -n "$TMP/times-$1" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ZIP_BYTES=$(cat "$TMP"/zips/*.zip | wc -c)
{
    echo "# Go module proxy: Cargoman against nginx"
    echo
    echo "Generated by \`bench/go.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, loopback, client and"
    echo "servers sharing the cores. Cargoman $GIT_REV$GIT_DIRTY (release, SQLite + filesystem, a public"
    echo "owner); nginx $("$NGINX" -v 2>&1 | awk -F/ '{print $2}') (the same GOPROXY layout as static files)."
    echo "$(go version); best of $RUNS, interleaved; \`sync\` before each; an empty module cache each time."
    echo
    echo "## Cold \`go mod download\` (seconds; ratio = nginx's time / Cargoman's)"
    echo
    echo "| Operation | Cargoman | nginx | ratio | Target ≥ 0.9× | median Cargoman / nginx |"
    echo "|---|---:|---:|---:|---|---|"
    r=$(ratio "${BEST[ng]}" "${BEST[cm]}")
    echo "| \`go mod download\` of $MODULES modules ($ZIP_BYTES bytes of zips) | ${BEST[cm]} | ${BEST[ng]} | ${r}× | $(verdict "$r" ">=" 0.9) | $(median cm) / $(median ng) |"
    echo
    echo "Both include the go command's own work (parent-path probes, hashing and unpacking each"
    echo "zip into the module cache), the same on both sides: the ratio is of whole client runs. A run"
    echo "takes about a tenth of a second, so single runs vary by tens of percent: the best of $RUNS counts,"
    echo "the medians are shown beside it."
} >"$RESULTS"
results_summary go "## Go module proxy against nginx (\`bench/go.sh\`)"

log "results written to $RESULTS"
cat "$RESULTS"
