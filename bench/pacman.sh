#!/usr/bin/env bash
# Cargoman's pacman repositories against repo-add and nginx, on loopback, in one run (issue 16).
#
#   Publish: one package (zstd, as makepkg writes it) into an arch-repo already holding 100, 1,000
#   and 10,000 packages: Cargoman's `POST /{repo}/publish` (stored, entries rendered, database
#   changed) against `repo-add` adding the same package file to a database holding the same
#   packages (its .db and .files, Cargoman's own databases downloaded at that size). Each is
#   timed PROBES times per size with a different package; the median counts. The first `.db`
#   read after a publish (when Cargoman assembles the database) is timed too.
#   Reads: `GET {repo}.db` req/s at the largest size against nginx serving the same file.
#
# Targets: publish < 50 ms at 10,000 packages and flat from 100 to 10,000. Writes
# bench/RESULTS-pacman.md and its block in bench/RESULTS.md. Cargoman: release build, SQLite +
# filesystem.
#
# Environment knobs:
#   SIZES="100 1000 10000"  repository sizes measured, ascending
#   PROBES=7          publishes timed per size
#   DURATION=10s      wrk duration per read cell
#   SKIP_BUILD=1      use the existing target/release/cargoman
#   CARGOMAN_BIN=path use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1        keep the temp dir (logs, storage)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-pacman.md"
read -ra SIZES <<<"${SIZES:-100 1000 10000}"
PROBES=${PROBES:-7}
DURATION=${DURATION:-10s}
LARGEST=${SIZES[-1]}

command -v repo-add >/dev/null 2>&1 || apt_ensure pacman-package-manager libarchive-tools zstd
apt_ensure nginx wrk
require_tools curl awk python3 bsdtar zstd repo-add wrk

build_cargoman
bench_tmp pacman-bench

TOKEN="bench-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
start_cargoman "$TMP/cargoman"
start_nginx application/octet-stream
BASE="http://127.0.0.1:$CARGOMAN_PORT"

# ---------------------------------------------------------------- packages
# The filling packages: small gzip packages made by Python (a .PKGINFO and one file each), so
# that 10,000 of them take seconds to make. The probes: zstd packages made as makepkg makes them.
log "making $LARGEST packages"
mkdir -p "$TMP/fill" "$TMP/probes"
python3 - "$TMP/fill" "$LARGEST" <<'PY'
import io, sys, tarfile
out, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    name = f"pkg{i:05d}"
    info = (f"pkgname = {name}\npkgbase = {name}\npkgver = 1.0-1\npkgdesc = bench package {i}\n"
            f"url = https://example.com/{name}\nbuilddate = 1700000000\npackager = Bench <b@example.com>\n"
            f"size = 1024\narch = x86_64\nlicense = MIT\ndepend = glibc\n").encode()
    body = (f"{name}\n" * 64).encode()
    with tarfile.open(f"{out}/{name}-1.0-1-x86_64.pkg.tar.gz", "w:gz") as t:
        for path, data in ((".PKGINFO", info), (f"usr/share/{name}/data", body)):
            entry = tarfile.TarInfo(path)
            entry.size = len(data)
            entry.mtime = 1700000000
            t.addfile(entry, io.BytesIO(data))
PY
make_probe() { # name -> package file
    local name=$1 dir="$TMP/work-$1"
    mkdir -p "$dir/usr/share/$name"
    printf '%s\n' "$name" >"$dir/usr/share/$name/data"
    printf 'pkgname = %s\npkgbase = %s\npkgver = 1.0-1\npkgdesc = probe\nurl = https://example.com\nbuilddate = 1700000000\npackager = Bench\nsize = 1024\narch = x86_64\nlicense = MIT\n' \
        "$name" "$name" >"$dir/.PKGINFO"
    (cd "$dir" && bsdtar --uid 0 --gid 0 -cf - .PKGINFO usr | zstd -q -c >"$TMP/probes/$name-1.0-1-x86_64.pkg.tar.zst")
    rm -rf "$dir"
    echo "$TMP/probes/$name-1.0-1-x86_64.pkg.tar.zst"
}

publish() { # file -> seconds (curl's total time); dies unless 201
    local out code time
    out=$(curl -s -o "$TMP/publish.out" -w '%{http_code} %{time_total}' -H "X-Api-Key: $TOKEN" \
        -XPOST -T "$1" "$BASE/bench/publish")
    read -r code time <<<"$out"
    [ "$code" = 201 ] || { cat "$TMP/publish.out" >&2; die "publish of $1 returned $code"; }
    echo "$time"
}

db_read() { # -> seconds of one authenticated .db read
    curl -s -o /dev/null -w '%{time_total}' -H "X-Api-Key: $TOKEN" "$BASE/bench/x86_64/bench.db"
}

median() { grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ms() { calc "%.1f" "$1 * 1000"; }

# ---------------------------------------------------------------- per size
declare -A PUB READ ADD DBSIZE
filled=0 # filling packages published
probed=0 # probes published (they stay: the next size grows on top of them)
for size in "${SIZES[@]}"; do
    log "filling the repo to $size packages"
    want=$((size - probed))
    find "$TMP/fill" -name '*.pkg.tar.gz' | sort | sed -n "$((filled + 1)),${want}p" |
        xargs -P 4 -I{} curl -sf -o /dev/null -H "X-Api-Key: $TOKEN" -XPOST -T {} "$BASE/bench/publish" ||
        die "filling to $size failed"
    filled=$want
    curl -sf -H "X-Api-Key: $TOKEN" -o "$TMP/ref.db.tar.gz" "$BASE/bench/x86_64/bench.db"
    curl -sf -H "X-Api-Key: $TOKEN" -o "$TMP/ref.files.tar.gz" "$BASE/bench/x86_64/bench.files"
    DBSIZE[$size]=$(wc -c <"$TMP/ref.db.tar.gz")
    listed=$(bsdtar -tf "$TMP/ref.db.tar.gz" | grep -c '/desc$')
    [ "$listed" = "$size" ] || die "the db lists $listed packages, not $size"
    : >"$TMP/pub-$size"
    : >"$TMP/read-$size"
    : >"$TMP/add-$size"
    for p in $(seq "$PROBES"); do
        probe=$(make_probe "probe-$size-$p")
        # repo-add's turn: the same package into a database holding the same packages.
        start=$(now)
        repo-add --quiet "$TMP/ref.db.tar.gz" "$probe" >/dev/null 2>&1 || die "repo-add failed"
        { elapsed "$start" "$(now)"; echo; } >>"$TMP/add-$size"
        publish "$probe" >>"$TMP/pub-$size"
        { db_read; echo; } >>"$TMP/read-$size"
    done
    probed=$((probed + PROBES))
    PUB[$size]=$(median <"$TMP/pub-$size")
    READ[$size]=$(median <"$TMP/read-$size")
    ADD[$size]=$(median <"$TMP/add-$size")
    log "$size packages: publish $(ms "${PUB[$size]}") ms, first read $(ms "${READ[$size]}") ms, repo-add $(ms "${ADD[$size]}") ms"
done

# ---------------------------------------------------------------- reads
log "reads of the $LARGEST-package .db: Cargoman against nginx"
curl -sf -H "X-Api-Key: $TOKEN" -o "$TMP/nginx/www/bench.db" "$BASE/bench/x86_64/bench.db"
chmod a+r "$TMP/nginx/www/bench.db"
read -r cm_rps cm_err cm_p50 cm_p99 <<<"$(wrk_cell "$BASE/bench/x86_64/bench.db" 8 "X-Api-Key: $TOKEN")"
read -r ng_rps ng_err ng_p50 ng_p99 <<<"$(wrk_cell "http://127.0.0.1:$NGINX_PORT/bench.db" 8)"
[ "$cm_err" = 0 ] && [ "$ng_err" = 0 ] || die "reads failed ($cm_err / $ng_err errors)"

{
    echo "# pacman: Cargoman against repo-add and nginx"
    echo
    echo "Generated by \`bench/pacman.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, loopback, client and"
    echo "servers sharing the cores. Cargoman $GIT_REV$GIT_DIRTY (release, SQLite + filesystem); $(pacman --version | awk '/Pacman v/ {print $2, $3}') repo-add;"
    echo "nginx $("$NGINX" -v 2>&1 | awk -F/ '{print $2}') serving the same database file. Medians of $PROBES publishes per size."
    echo
    echo "## Publishing one package into an arch-repo of N packages (ms)"
    echo
    echo "| N packages | Cargoman publish | repo-add (same package, same db) | ratio | first \`.db\` read after it | \`.db\` size | Target < 50 ms |"
    echo "|---:|---:|---:|---:|---:|---:|---|"
    for size in "${SIZES[@]}"; do
        r=$(calc "%.1f" "${ADD[$size]} / ${PUB[$size]}")
        echo "| $size | $(ms "${PUB[$size]}") | $(ms "${ADD[$size]}") | ${r}× | $(ms "${READ[$size]}") | ${DBSIZE[$size]} B | $(verdict "$(ms "${PUB[$size]}")" "<" 50) |"
    done
    echo
    echo "Cargoman's publish is the whole HTTP request: upload, reading the package, storing it and"
    echo "rendering its database entries. It does not depend on the repository's size: the database"
    echo "is assembled from the packages' entries at the first read after a change (the next column,"
    echo "a cost paid once per change and instance, then served from memory). repo-add rewrites both"
    echo "databases whole on every add."
    echo
    echo "## \`GET {repo}.db\` of $LARGEST packages, 8 connections"
    echo
    echo "| Server | req/s | p50 ms | p99 ms |"
    echo "|---|---:|---:|---:|"
    echo "| Cargoman | $cm_rps | $cm_p50 | $cm_p99 |"
    echo "| nginx | $ng_rps | $ng_p50 | $ng_p99 |"
    echo
    echo "Ratio Cargoman / nginx: $(calc "%.2f" "$cm_rps / $ng_rps")× (the ${DBSIZE[$LARGEST]}-byte database from memory against"
    echo "nginx's sendfile)."
} >"$RESULTS"
results_summary pacman "## pacman against repo-add and nginx (\`bench/pacman.sh\`)"

log "results written to $RESULTS"
cat "$RESULTS"
