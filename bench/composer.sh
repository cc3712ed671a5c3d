#!/usr/bin/env bash
# Cargoman Composer benchmark against peers, on loopback, in one run.
#
#   1. Sync of a generated Git repository (a small PHP package, 500 tags, each tag a commit
#      changing one file): Cargoman `POST /api/v1/packages` + polling the task until `done`,
#      versus what Satis does at the least — `git archive --format=zip` + `sha1sum` of every tag
#      in a fresh clone. Plus a second, no-op re-sync of Cargoman.
#   2. Metadata reads: `GET /p2/bench/pkg.json` on Cargoman vs nginx serving the same bytes as a
#      static file (wrk, 1 and 16 concurrent clients).
#
# Writes bench/RESULTS-composer.md (re-running refreshes it). Needs root or sudo only to
# `apt-get install nginx wrk git jq` when they are missing.
#
# Environment knobs:
#   DURATION=10s          wrk duration per cell
#   TAGS=500              number of tags (commits) in the generated repository
#   RUNS=3                sync runs of each side (best and all are reported); every Cargoman run
#                         starts a fresh server with an empty database, blob store and Git cache
#   SKIP_BUILD=1          use the existing target/release/cargoman without `cargo build --release`
#   CARGOMAN_BIN=path     use another binary (implies SKIP_BUILD)
#   PROFILE=1             also `perf record -g` one more Cargoman first sync and add the top of
#                         `perf report --no-children --sort dso,sym` to the results
#   KEEP_TMP=1            keep the temp dir (logs, db, repository) after the run
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-composer.md"
DURATION=${DURATION:-10s}
TAGS=${TAGS:-500}
RUNS=${RUNS:-3}
PACKAGE=bench/pkg
export LC_ALL=C # byte lengths for fast-import, stable sorting


# ---------------------------------------------------------------- dependencies
apt_ensure nginx wrk git jq
require_tools curl awk sha1sum

# ---------------------------------------------------------------- build
build_cargoman

# ---------------------------------------------------------------- temp dir, cleanup
bench_tmp composer-bench

# CPU seconds (user + system) a process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# ---------------------------------------------------------------- the repository
# A small PHP library as found on Packagist: composer.json, README, LICENSE, 20 classes in src/,
# PHPUnit tests kept out of the dist by `.gitattributes`. The first commit adds it all; each
# further commit changes src/Version.php only; every commit is tagged v1.M.P.
REPO="$TMP/repo.git"
tag_name() { echo "v1.$(($1 / 50)).$(($1 % 50))"; }

php_class() { # name -> a ~1.5 KiB class
    local n=$1
    cat <<EOF
<?php

declare(strict_types=1);

namespace Bench\\Pkg;

/**
 * $n: one of the library's small services.
 *
 * Keeps a list of items and answers simple questions about them. Nothing here is
 * meant to be clever; it is here to be archived.
 */
final class $n
{
    /** @var array<string, int> */
    private array \$items = [];

    public function __construct(private readonly string \$prefix = '${n,,}')
    {
    }

    public function add(string \$key, int \$value = 1): self
    {
        \$key = \$this->prefix . ':' . \$key;
        \$this->items[\$key] = (\$this->items[\$key] ?? 0) + \$value;

        return \$this;
    }

    public function get(string \$key): int
    {
        return \$this->items[\$this->prefix . ':' . \$key] ?? 0;
    }

    public function total(): int
    {
        return array_sum(\$this->items);
    }

    /** @return list<string> */
    public function keys(): array
    {
        \$keys = array_keys(\$this->items);
        sort(\$keys);

        return \$keys;
    }

    public function isEmpty(): bool
    {
        return \$this->items === [];
    }
}
EOF
}

php_test() { # class -> a PHPUnit test
    local n=$1
    cat <<EOF
<?php

declare(strict_types=1);

namespace Bench\\Pkg\\Tests;

use Bench\\Pkg\\$n;
use PHPUnit\\Framework\\TestCase;

final class ${n}Test extends TestCase
{
    public function testAddsAndCounts(): void
    {
        \$s = (new $n())->add('a')->add('a', 2)->add('b');
        self::assertSame(3, \$s->get('a'));
        self::assertSame(4, \$s->total());
        self::assertFalse(\$s->isEmpty());
    }
}
EOF
}

version_php() { # version -> src/Version.php
    cat <<EOF
<?php

declare(strict_types=1);

namespace Bench\\Pkg;

final class Version
{
    public const VERSION = '$1';
}
EOF
}

CLASSES=(Cache Clock Collection Config Container Dispatcher Emitter Filter Formatter Hasher
    Inflector Logger Mapper Parser Pipeline Queue Registry Router Serializer Validator)

static_files() { # the first commit's files, as fast-import `M` commands
    local f
    # $(...) drops the final newline; the file gets it back here.
    emit() { printf 'M 100644 inline %s\ndata %d\n%s\n\n' "$1" $((${#2} + 1)) "$2"; }
    emit composer.json "$(cat <<'EOF'
{
    "name": "bench/pkg",
    "description": "A small PHP library for the Cargoman Composer benchmark",
    "type": "library",
    "keywords": ["bench", "example"],
    "license": "MIT",
    "authors": [{"name": "Bench Author", "email": "bench@example.org"}],
    "require": {"php": ">=8.1", "psr/log": "^1.1 || ^2.0 || ^3.0"},
    "require-dev": {"phpunit/phpunit": "^10.5"},
    "autoload": {"psr-4": {"Bench\\Pkg\\": "src/"}},
    "autoload-dev": {"psr-4": {"Bench\\Pkg\\Tests\\": "tests/"}},
    "config": {"sort-packages": true}
}
EOF
)"
    emit .gitattributes "$(printf '/tests export-ignore\n/phpunit.xml.dist export-ignore\n/.gitattributes export-ignore\n/.gitignore export-ignore\n')"
    emit .gitignore "$(printf '/vendor/\n/composer.lock\n/.phpunit.cache/\n')"
    emit README.md "$(printf '# bench/pkg\n\nA small PHP library used to benchmark Composer registries.\n\n```\ncomposer require bench/pkg\n```\n')"
    emit LICENSE "$(printf 'MIT License\n\nCopyright (c) 2024 Bench Author\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software and\nassociated documentation files, to deal in the Software without restriction.\n')"
    emit phpunit.xml.dist "$(printf '<?xml version="1.0"?>\n<phpunit bootstrap="vendor/autoload.php" colors="true">\n  <testsuites><testsuite name="unit"><directory>tests</directory></testsuite></testsuites>\n</phpunit>\n')"
    for f in "${CLASSES[@]}"; do
        emit "src/$f.php" "$(php_class "$f")"
    done
    for f in Cache Config Parser Router Validator; do
        emit "tests/${f}Test.php" "$(php_test "$f")"
    done
    emit tests/bootstrap.php "$(printf '<?php\n\nrequire __DIR__ . "/../vendor/autoload.php";\n')"
}

fast_import_stream() {
    local i tag content msg t=1700000000
    for ((i = 0; i < TAGS; i++)); do
        tag=$(tag_name "$i")
        msg="Release ${tag#v}"
        content=$(version_php "${tag#v}")
        printf 'commit refs/heads/main\nmark :%d\n' $((i + 1))
        printf 'author Bench Author <bench@example.org> %d +0000\n' $((t + i * 3600))
        printf 'committer Bench Author <bench@example.org> %d +0000\n' $((t + i * 3600))
        printf 'data %d\n%s\n' "${#msg}" "$msg"
        [ "$i" -eq 0 ] && static_files
        printf 'M 100644 inline src/Version.php\ndata %d\n%s\n\n' $((${#content} + 1)) "$content"
        printf 'reset refs/tags/%s\nfrom :%d\n\n' "$tag" $((i + 1))
    done
}

log "generating $REPO: $TAGS commits, $TAGS tags"
git init -q --bare -b main "$REPO"
fast_import_stream | git -C "$REPO" fast-import --quiet
[ "$(git -C "$REPO" tag | wc -l)" -eq "$TAGS" ] || die "generated repository has the wrong number of tags"
LAST_TAG=$(tag_name $((TAGS - 1)))
REPO_FILES=$(git -C "$REPO" ls-tree -r --name-only "$LAST_TAG" | wc -l)
REPO_SIZE=$(du -sk "$REPO/objects" | awk '{printf "%.0f KiB", $1}')

# ---------------------------------------------------------------- Satis-equivalent loop
# What Satis's archive step does at the very least for every version: one zip of the tree
# (export-ignore honoured) and its SHA-1. Satis first mirrors the repository (git clone --mirror).
satis_run() { # dir -> OUT="clone_s loop_s loop_cpu_s"
    local dir=$1 s e clone_t loop_t cpu
    # A new directory for every run, nothing deleted before the end: on a journal-less ext4, inode
    # allocation skips (and scans past) inodes freed in the last minutes, which would slow down
    # whatever creates files next.
    s=$(now)
    git clone -q --mirror "file://$REPO" "$dir/mirror.git"
    e=$(now)
    clone_t=$(elapsed "$s" "$e")
    mkdir -p "$dir/out"
    local TIMEFORMAT='%R %U %S'
    {
        time (
            cd "$dir/mirror.git"
            for tag in $(git tag); do
                git archive --format=zip -o "$dir/out/$tag.zip" "$tag"
                sha1sum "$dir/out/$tag.zip" >>"$dir/out/SHA1SUMS"
            done
        )
    } 2>"$dir/time.out"
    read -r loop_t u sy <"$dir/time.out"
    cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN {printf "%.2f", u + s}')
    [ "$(wc -l <"$dir/out/SHA1SUMS")" -eq "$TAGS" ] || die "Satis loop made the wrong number of zips"
    OUT="$clone_t $loop_t $cpu"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg) # 1, 5, 15 min, before the first timed step
SATIS_CLONE=()
SATIS_LOOP=()
SATIS_CPU=()
for run in $(seq "$RUNS"); do
    log "Satis-equivalent loop, run $run: git archive + sha1sum of $TAGS tags"
    satis_run "$TMP/satis-$run"
    read -r c l cpu <<<"$OUT"
    SATIS_CLONE+=("$c")
    SATIS_LOOP+=("$l")
    SATIS_CPU+=("$cpu")
    echo "  clone ${c}s, loop ${l}s (CPU ${cpu}s)" >&2
done
# Kept for the content comparison below.
SATIS_ZIP="$TMP/satis-$RUNS/out/$LAST_TAG.zip"

# ---------------------------------------------------------------- Cargoman
TOKEN="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
CARGOMAN_PORT=""

# first_sync -> OUT="wall_s cpu_s"; checks what the sync made
first_sync() {
    local s e cpu0 cpu1 id
    cpu0=$(cpu_of "$CARGOMAN_PID")
    s=$(now)
    id=$(api POST /api/v1/packages "{\"name\":\"$PACKAGE\",\"repository_url\":\"file://$REPO\"}" | jq -r '.data.task.id')
    [[ "$id" =~ ^[0-9]+$ ]] || die "no task id in the create response"
    wait_task "$id" >"$TMP/sync1.json"
    e=$(now)
    cpu1=$(cpu_of "$CARGOMAN_PID")
    local added skipped
    added=$(jq '.data.result.added | length' "$TMP/sync1.json")
    skipped=$(jq '.data.result.skipped | length' "$TMP/sync1.json")
    # The tags, and the main branch as dev-main.
    [ "$added" -eq $((TAGS + 1)) ] && [ "$skipped" -eq 0 ] ||
        { jq -c '.data.result | {added: (.added | length), skipped}' "$TMP/sync1.json" >&2; die "first sync added $added versions, skipped $skipped"; }
    OUT="$(elapsed "$s" "$e") $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", b - a}')"
}

resync() { # -> OUT="wall_s cpu_s"
    local s e cpu0 cpu1 id unchanged
    cpu0=$(cpu_of "$CARGOMAN_PID")
    s=$(now)
    id=$(api POST "/api/v1/packages/$PACKAGE/sync" | jq -r '.data.id')
    [[ "$id" =~ ^[0-9]+$ ]] || die "no task id in the sync response"
    wait_task "$id" >"$TMP/sync2.json"
    e=$(now)
    cpu1=$(cpu_of "$CARGOMAN_PID")
    unchanged=$(jq '.data.result.unchanged' "$TMP/sync2.json")
    [ "$unchanged" -eq $((TAGS + 1)) ] || die "re-sync left $unchanged versions unchanged, expected $((TAGS + 1))"
    OUT="$(elapsed "$s" "$e") $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.2f", b - a}')"
}

C_SYNC=()
C_CPU=()
R_SYNC=()
R_CPU=()
for run in $(seq "$RUNS"); do
    [ -n "$CARGOMAN_PID" ] && stop_cargoman
    log "Cargoman sync, run $run (fresh server, database, blob store and Git cache)"
    start_cargoman "$TMP/state-$run"
    sync # earlier runs' dirty pages must not be written back during this one
    first_sync
    read -r w cpu <<<"$OUT"
    C_SYNC+=("$w")
    C_CPU+=("$cpu")
    echo "  first sync ${w}s (server CPU ${cpu}s)" >&2
    resync
    read -r w cpu <<<"$OUT"
    R_SYNC+=("$w")
    R_CPU+=("$cpu")
    echo "  no-op re-sync ${w}s (server CPU ${cpu}s)" >&2
done
C_BASE="http://127.0.0.1:$CARGOMAN_PORT"
STATE="$TMP/state-$RUNS"

# ---------------------------------------------------------------- correctness of what was synced
log "checking the synced metadata and one dist zip"
curl -sSf -H "Authorization: Bearer $TOKEN" -o "$TMP/p2.json" "$C_BASE/p2/$PACKAGE.json" ||
    die "GET /p2/$PACKAGE.json failed"
P2_VERSIONS=$(jq --arg p "$PACKAGE" '.packages[$p] | length' "$TMP/p2.json")
[ "$P2_VERSIONS" -eq "$TAGS" ] || die "p2 lists $P2_VERSIONS versions, expected $TAGS"
P2_BYTES=$(wc -c <"$TMP/p2.json")
LAST_VERSION=${LAST_TAG#v}
# Minified metadata: the newest version comes first and carries every key.
want_sha=$(jq -r --arg p "$PACKAGE" '.packages[$p][0].dist.shasum' "$TMP/p2.json")
got_ver=$(jq -r --arg p "$PACKAGE" '.packages[$p][0].version' "$TMP/p2.json")
[ "$got_ver" = "$LAST_VERSION" ] || die "p2's first version is $got_ver, expected $LAST_VERSION"
curl -sSf -H "Authorization: Bearer $TOKEN" -o "$TMP/dist.zip" "$C_BASE/dist/$PACKAGE/$LAST_VERSION.zip" ||
    die "GET of the $LAST_VERSION dist zip failed"
[ "$(sha1sum <"$TMP/dist.zip" | awk '{print $1}')" = "$want_sha" ] || die "dist zip does not match p2's shasum"
ZIP_CHECK="dist shasum matches"
if command -v python3 >/dev/null 2>&1; then
    zip_names() { python3 -c 'import sys, zipfile; print("\n".join(sorted(n for n in zipfile.ZipFile(sys.argv[1]).namelist() if not n.endswith("/"))))' "$1"; }
    if [ "$(zip_names "$TMP/dist.zip")" = "$(zip_names "$SATIS_ZIP")" ]; then
        ZIP_FILES=$(zip_names "$TMP/dist.zip" | wc -l)
        ZIP_CHECK="$ZIP_CHECK; same $ZIP_FILES files as \`git archive\` (tests/ left out)"
    else
        diff <(zip_names "$TMP/dist.zip") <(zip_names "$SATIS_ZIP") >&2 || true
        die "Cargoman's dist zip holds other files than git archive's"
    fi
fi
ZIP_SIZES="Cargoman $(wc -c <"$TMP/dist.zip") B, git archive $(wc -c <"$SATIS_ZIP") B"

# ---------------------------------------------------------------- optional profile
PROFILE_TXT=""
if [ "${PROFILE:-0}" = 1 ]; then
    stop_cargoman
    log "profiling one more first sync with perf"
    start_cargoman "$TMP/state-profile"
    sync
    perf record -q -g -o "$TMP/perf.data" -p "$CARGOMAN_PID" 2>"$TMP/perf.log" &
    HELPER_PID=$!
    sleep 0.5
    first_sync
    read -r w _ <<<"$OUT"
    kill -INT "$HELPER_PID"
    wait "$HELPER_PID" || true
    HELPER_PID=""
    echo "  profiled first sync ${w}s" >&2
    PROFILE_TXT=$(perf report -i "$TMP/perf.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        grep -E '^ +[0-9]+\.[0-9]+%' | sed -n 1,30p) # sed, not head: no SIGPIPE under pipefail
    stop_cargoman
    start_cargoman "$STATE" # the synced server again, for the reads
    C_BASE="http://127.0.0.1:$CARGOMAN_PORT"
fi

# ---------------------------------------------------------------- nginx
mkdir -p "$TMP/nginx/www/p2/bench"
cp "$TMP/p2.json" "$TMP/nginx/www/p2/$PACKAGE.json"
start_nginx application/json
N_BASE="http://127.0.0.1:$NGINX_PORT"
curl -sSf "$N_BASE/p2/$PACKAGE.json" | cmp -s - "$TMP/p2.json" || die "nginx served other bytes"
curl -sSf -H "Authorization: Bearer $TOKEN" "$C_BASE/p2/$PACKAGE.json" | cmp -s - "$TMP/p2.json" ||
    die "Cargoman's p2 changed between two reads"

# ---------------------------------------------------------------- 2. metadata reads
# wrk_cell server conc -> "req_s errors p50_ms"
wrk_cell() {
    local server=$1 conc=$2 url threads out rps errs p50
    local -a hdr=()
    if [ "$server" = cargoman ]; then
        url="$C_BASE/p2/$PACKAGE.json"
        hdr=(-H "Authorization: Bearer $TOKEN")
    else
        url="$N_BASE/p2/$PACKAGE.json"
    fi
    threads=1
    [ "$conc" -gt 1 ] && threads=2
    out=$(wrk -t"$threads" -c"$conc" -d"$DURATION" --latency --timeout 30s "${hdr[@]}" "$url")
    printf '%s\n' "$out" >>"$TMP/wrk.log"
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')
    errs=$(printf '%s\n' "$out" | awk '
        /Non-2xx or 3xx responses:/ {n += $NF}
        /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
        END {print n + 0}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
        printf "%.2f", v}')
    echo "${rps:-0} $errs ${p50:-?}"
}

declare -A RPS ERRS P50
for conc in 1 16; do
    for server in nginx cargoman; do
        log "GET /p2/$PACKAGE.json, $conc client(s), $server, $DURATION"
        read -r r e p < <(wrk_cell "$server" "$conc")
        RPS[$server,$conc]=$r
        ERRS[$server,$conc]=$e
        P50[$server,$conc]=$p
        echo "  $r req/s, $e errors, p50 ${p} ms" >&2
    done
done

# ---------------------------------------------------------------- report

NPROC=$(nproc)
CPU=$(lscpu | awk -F: '/Model name/ && !done {gsub(/^ +/, "", $2); print $2; done = 1}')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$TMP" | awk 'NR == 2 {print $2 " (" $1 ")"}')
NGINX_V=$( ("$NGINX" -v 2>&1 || true) | sed 's/^nginx version: //')
WRK_V=$( (wrk -v 2>&1 || true) | awk 'NR == 1 {print $2}')
GIT_V=$(git --version | awk '{print $3}')

C_T=$(min_of "${C_SYNC[@]}")
S_T=$(min_of "${SATIS_LOOP[@]}")
SC_T=$(min_of "${SATIS_CLONE[@]}")
R_T=$(min_of "${R_SYNC[@]}")
SYNC_RATIO=$(calc %.2f "$S_T / $C_T")
SYNC_RATIO_CLONE=$(calc %.2f "($S_T + $SC_T) / $C_T")

{
    echo "# Cargoman Composer benchmark results"
    echo
    echo "Generated by \`bench/composer.sh\` — re-run it to refresh this file. Everything runs on loopback"
    echo "(127.0.0.1) on one machine, so the load generator and the servers share the CPUs."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| CPU | $CPU, $NPROC CPUs (\`nproc\`) |"
    echo "| Memory | $MEM |"
    echo "| Kernel | $(uname -sr) |"
    echo "| Temp dir filesystem | $FS |"
    echo "| Load average before the timed steps | $LOAD_START (other work on the machine skews both sides) |"
    echo "| Cargoman | $GIT_REV$GIT_DIRTY, release build, SQLite + filesystem storage, \`TASK_SYNC_INTERVAL=0\` |"
    echo "| git | $GIT_V |"
    echo "| nginx | $NGINX_V (\`sendfile on\`, \`worker_processes auto\`, access log off) |"
    echo "| wrk | $WRK_V (\`-t1 -c1\` / \`-t2 -c16\`, \`-d$DURATION\`) |"
    echo
    echo "## 1. Sync of a Git repository with $TAGS tags"
    echo
    echo "The repository is generated with \`git fast-import\` before anything is timed: a small PHP"
    echo "library (\`composer.json\` named \`$PACKAGE\`, ${#CLASSES[@]} classes in \`src/\`, \`tests/\`, README,"
    echo "LICENSE, \`phpunit.xml.dist\`; $REPO_FILES files; \`.gitattributes\` with \`/tests export-ignore\`),"
    echo "$TAGS commits each changing \`src/Version.php\`, each tagged (\`v1.0.0\` … \`$LAST_TAG\`), plus"
    echo "branch \`main\`. Objects: $REPO_SIZE, one pack."
    echo
    echo "- **Cargoman**: \`POST /api/v1/packages {\"name\":\"$PACKAGE\",\"repository_url\":\"file://REPO\"}\`,"
    echo "  then \`GET /api/v1/tasks/{id}\` every 20 ms until \`done\`; wall time from the POST to the"
    echo "  poll that sees \`done\`. It mirrors the repository, reads composer.json of every ref, builds"
    echo "  a zip of every tag **and** of \`main\` (dev-main, $((TAGS + 1)) zips), stores each with SHA-256"
    echo "  and SHA-1, and renders the metadata. Each run is a fresh server with an empty database, blob"
    echo "  store and Git cache. Server CPU is user + system time of the process during the sync."
    echo "- **Satis-equivalent loop**: in a fresh \`git clone --mirror\` (timed apart), a shell loop of"
    echo "  \`git archive --format=zip -o OUT/\$tag.zip \$tag\` + \`sha1sum OUT/\$tag.zip\` over the $TAGS"
    echo "  tags. This is a lower bound for Satis, whose archiver goes through a checkout and PHP's zip."
    echo "- Checked: $((TAGS + 1)) versions added, none skipped; p2 lists $TAGS tagged versions; $ZIP_CHECK"
    echo "  ($LAST_VERSION zip: $ZIP_SIZES)."
    echo
    echo "Best of $RUNS runs each (all runs in brackets)."
    echo
    echo "| Measure | Time | CPU | Target | |"
    echo "|---|---:|---:|---|---|"
    echo "| Satis-equivalent: \`git clone --mirror\` | ${SC_T} s (${SATIS_CLONE[*]}) | | | |"
    echo "| Satis-equivalent: archive + sha1sum loop | ${S_T} s (${SATIS_LOOP[*]}) | ${SATIS_CPU[*]} s | | |"
    echo "| Cargoman first sync | ${C_T} s (${C_SYNC[*]}) | ${C_CPU[*]} s | | |"
    echo "| Speed-up: loop / Cargoman | ${SYNC_RATIO}× | | ≥ 2× | $(verdict "$SYNC_RATIO" ">=" 2) |"
    echo "| Speed-up: (clone + loop) / Cargoman | ${SYNC_RATIO_CLONE}× | | | |"
    echo "| Cargoman no-op re-sync (\`POST /api/v1/packages/$PACKAGE/sync\`) | ${R_T} s (${R_SYNC[*]}) | ${R_CPU[*]} s | | |"
    echo
    echo "## 2. Metadata reads: \`GET /p2/$PACKAGE.json\`"
    echo
    echo "The document Cargoman rendered ($P2_BYTES bytes, $TAGS versions, minified composer/2.0, no"
    echo "compression asked for) was saved and served by nginx as a static file; both serve the same"
    echo "bytes. Cargoman gets \`Authorization: Bearer TOKEN\` (an admin token) on every request."
    echo "Target: Cargoman ≥ 0.5× nginx."
    echo
    echo "| Clients | nginx req/s | nginx p50 | Cargoman req/s | Cargoman p50 | Cargoman MiB/s | Cargoman/nginx | Target ≥ 0.5× | Errors (nginx/Cargoman) |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---|---|"
    for conc in 1 16; do
        n=${RPS[nginx,$conc]}
        c=${RPS[cargoman,$conc]}
        ratio=$(calc "%.2f" "($n > 0) ? $c / $n : 0")
        echo "| $conc | $(calc %.0f "$n") | ${P50[nginx,$conc]} ms | $(calc %.0f "$c") | ${P50[cargoman,$conc]} ms | $(calc %.0f "$c * $P2_BYTES / 1048576") | ${ratio}× | $(verdict "$ratio" ">=" 0.5) | ${ERRS[nginx,$conc]}/${ERRS[cargoman,$conc]} |"
    done
    if [ -n "$PROFILE_TXT" ]; then
        echo
        echo "## Profile of one first sync (\`PROFILE=1\`)"
        echo
        echo "\`perf record -g -p PID\` during the sync, \`perf report --no-children --sort dso,sym\`, top entries:"
        echo
        echo '```'
        printf '%s\n' "$PROFILE_TXT"
        echo '```'
    fi
} >"$RESULTS"

log "results written to $RESULTS"
cat "$RESULTS"
