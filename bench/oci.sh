#!/usr/bin/env bash
# Cargoman's Container (OCI) registry against CNCF distribution (Debian's `docker-registry`), on
# loopback, in one run (issue 12).
#
#   1. skopeo push (OCI layout → registry) and pull (registry → OCI layout) of a single-layer
#      image of BIG_MIB MiB and of an image of LAYERS small layers (LAYER_KIB KiB each); each
#      run pushes into a new repository, so every run sends every byte; best of RUNS.
#   2. Blob GET (wrk, 1 and 16 connections) of a 1 MiB layer, with credentials on both.
#   3. Peak RSS (VmHWM) of each server after the pushes (the big one included), and over the run.
#
# Targets: Cargoman ≥ 1.0× distribution on every row; Cargoman's peak RSS during the pushes
# < 64 MiB.
# Writes bench/RESULTS-oci.md. Both servers: filesystem storage, Basic credentials (htpasswd for
# distribution, the root token for Cargoman; skopeo goes through Cargoman's token flow).
#
# Environment knobs:
#   DURATION=10s      wrk duration per cell
#   BIG_MIB=1024      size of the single-layer image
#   LAYERS=200        layers of the many-layer image
#   LAYER_KIB=64      size of each of those layers
#   RUNS=3            pushes and pulls are timed RUNS times; the best counts
#   SKIP_BUILD=1      use the existing target/release/cargoman
#   CARGOMAN_BIN=path use another binary (implies SKIP_BUILD)
#   KEEP_TMP=1        keep the temp dir (logs, storage)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
RESULTS="$BENCH_DIR/RESULTS-oci.md"
DURATION=${DURATION:-10s}
BIG_MIB=${BIG_MIB:-1024}
LAYERS=${LAYERS:-200}
LAYER_KIB=${LAYER_KIB:-64}
RUNS=${RUNS:-3}

apt_ensure wrk skopeo docker-registry apache2-utils
require_tools curl awk python3 skopeo docker-registry htpasswd

build_cargoman
bench_tmp oci-bench
REGISTRY_PID=""
trap 'kill "$REGISTRY_PID" 2>/dev/null; bench_cleanup' EXIT

# ---------------------------------------------------------------- images
# OCI layouts written directly: random, incompressible layers stored as uncompressed tar media
# type (skopeo copies them as they are with --preserve-digests), one config per image.
make_layout() { # dir layer_count layer_bytes
    python3 - "$@" <<'PY'
import hashlib, json, os, sys
out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def store(data_chunks):
    h, tmp = hashlib.sha256(), os.path.join(out, "tmp")
    n = 0
    with open(tmp, "wb") as f:
        for chunk in data_chunks:
            h.update(chunk); f.write(chunk); n += len(chunk)
    os.replace(tmp, os.path.join(blobs, h.hexdigest()))
    return "sha256:" + h.hexdigest(), n
def random_bytes(total):
    while total > 0:
        chunk = os.urandom(min(total, 1 << 20)); total -= len(chunk); yield chunk
layers = [store(random_bytes(size)) for _ in range(count)]
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [d for d, _ in layers]}}).encode()
cd, cs = store([config])
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": n}
               for d, n in layers]}).encode()
md, ms = store([manifest])
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, f)
print(layers[0][0])
PY
}
log "writing the images: 1 × $BIG_MIB MiB, $LAYERS × $LAYER_KIB KiB, 1 × 1 MiB"
make_layout "$TMP/big" 1 $((BIG_MIB * 1048576)) >/dev/null
make_layout "$TMP/many" "$LAYERS" $((LAYER_KIB * 1024)) >/dev/null
ONE_LAYER=$(make_layout "$TMP/one" 1 1048576)

# ---------------------------------------------------------------- servers
TOKEN="bench-admin-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
start_cargoman "$TMP/cargoman"
PASSWORD="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
REGISTRY_PORT=$(free_port)
mkdir -p "$TMP/distribution"
htpasswd -Bbn bench "$PASSWORD" >"$TMP/distribution/htpasswd"
cat >"$TMP/distribution/config.yml" <<YAML
version: 0.1
log: {level: error}
storage:
  filesystem: {rootdirectory: $TMP/distribution/data}
  delete: {enabled: true}
http: {addr: 127.0.0.1:$REGISTRY_PORT}
auth:
  htpasswd: {realm: bench, path: $TMP/distribution/htpasswd}
YAML
docker-registry serve "$TMP/distribution/config.yml" >"$TMP/distribution/log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REGISTRY_PORT/v2/" || true)
    [ "$code" = 401 ] && break
    kill -0 "$REGISTRY_PID" 2>/dev/null || { cat "$TMP/distribution/log" >&2; die "docker-registry exited"; }
    sleep 0.1
done
DISTRIBUTION_VERSION=$(docker-registry --version 2>/dev/null | awk '{print $3}')

declare -A HOST CREDS PID
HOST[cm]="127.0.0.1:$CARGOMAN_PORT" CREDS[cm]="admin:$TOKEN" PID[cm]=$CARGOMAN_PID
HOST[dr]="127.0.0.1:$REGISTRY_PORT" CREDS[dr]="bench:$PASSWORD" PID[dr]=$REGISTRY_PID

# skopeo remembers where it saw each blob (its blob info cache) and would mount a layer from an
# earlier run's repository instead of sending it: every copy starts without that memory.
BLOB_INFO_CACHE=/var/lib/containers/cache/blob-info-cache-v1.boltdb
[ "$(id -u)" = 0 ] || BLOB_INFO_CACHE="$HOME/.local/share/containers/cache/blob-info-cache-v1.boltdb"
push() { # side image repo
    rm -f "$BLOB_INFO_CACHE"
    skopeo --insecure-policy copy -q --preserve-digests --dest-tls-verify=false \
        --dest-creds "${CREDS[$1]}" "oci:$TMP/$2:v1" "docker://${HOST[$1]}/$3:v1"
}
pull() { # side repo
    rm -rf "$TMP/pulled" "$BLOB_INFO_CACHE"
    skopeo --insecure-policy copy -q --preserve-digests --dest-oci-accept-uncompressed-layers \
        --src-tls-verify=false --src-creds "${CREDS[$1]}" "docker://${HOST[$1]}/$2:v1" "oci:$TMP/pulled:v1"
}
timed() { # command… -> seconds
    local start
    sync
    start=$(now)
    "$@" || return 1
    elapsed "$start" "$(now)"
}

# ---------------------------------------------------------------- push and pull
declare -A BEST
keep_best() { # key seconds
    if [ -z "${BEST[$1]:-}" ] || awk -v a="$2" -v b="${BEST[$1]}" 'BEGIN {exit !(a < b)}'; then
        BEST[$1]=$2
    fi
}
peak_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# Pushes first, so the peak memory after them is the pushes' (downloads map blob files, whose
# pages count as resident while they are read).
for run in $(seq "$RUNS"); do
    for image in big many; do
        for side in cm dr; do
            log "run $run of $RUNS: $side push of $image"
            seconds=$(timed push "$side" "$image" "bench/$image-$run") || die "$side push of $image failed"
            keep_best "$side-push-$image" "$seconds"
        done
    done
done
CM_PUSH_RSS=$(peak_mib "${PID[cm]}")
DR_PUSH_RSS=$(peak_mib "${PID[dr]}")
for run in $(seq "$RUNS"); do
    for image in big many; do
        for side in cm dr; do
            log "run $run of $RUNS: $side pull of $image"
            seconds=$(timed pull "$side" "bench/$image-$run") || die "$side pull of $image failed"
            keep_best "$side-pull-$image" "$seconds"
        done
    done
done
rm -rf "$TMP/pulled"

# ---------------------------------------------------------------- blob GET
declare -A RPS ERRS P99
for side in cm dr; do
    push "$side" one bench/one
done
basic() { printf 'Authorization: Basic %s' "$(printf '%s' "$1" | base64 -w0)"; }
for side in cm dr; do
    url="http://${HOST[$side]}/v2/bench/one/blobs/$ONE_LAYER"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "$(basic "${CREDS[$side]}")" "$url")
    [ "$code" = 200 ] || die "$side: GET $url returned $code"
    for conc in 1 16; do
        read -r r e _ p9 < <(wrk_cell "$url" "$conc" "$(basic "${CREDS[$side]}")")
        RPS[$side-$conc]=$r ERRS[$side-$conc]=$e P99[$side-$conc]=$p9
    done
done

CM_RSS=$(peak_mib "${PID[cm]}")
DR_RSS=$(peak_mib "${PID[dr]}")

# ---------------------------------------------------------------- results
ratio() { calc "%.2f" "$1 / $2"; }
{
    echo "# Container registry: Cargoman against CNCF distribution"
    echo
    echo "Generated by \`bench/oci.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) CPUs, loopback, client and"
    echo "servers sharing the cores. Cargoman $GIT_REV$GIT_DIRTY (release, SQLite + filesystem); distribution"
    echo "${DISTRIBUTION_VERSION:-?} (Debian \`docker-registry\`, filesystem, htpasswd). skopeo $(skopeo --version | awk '{print $3}'),"
    echo "\`--preserve-digests\`; each run pushes into a new repository; best of $RUNS; \`sync\` before each."
    echo
    echo "## Push and pull (seconds; ratio = distribution's time / Cargoman's)"
    echo
    echo "| Image | Cargoman push | distribution push | ratio | Cargoman pull | distribution pull | ratio | Target ≥ 1.0× |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    for image in big many; do
        if [ "$image" = big ]; then label="1 layer of $BIG_MIB MiB"; else label="$LAYERS layers of $LAYER_KIB KiB"; fi
        rp=$(ratio "${BEST[dr-push-$image]}" "${BEST[cm-push-$image]}")
        rl=$(ratio "${BEST[dr-pull-$image]}" "${BEST[cm-pull-$image]}")
        worst=$(min_of "$rp" "$rl")
        echo "| $label | ${BEST[cm-push-$image]} | ${BEST[dr-push-$image]} | ${rp}× | ${BEST[cm-pull-$image]} | ${BEST[dr-pull-$image]} | ${rl}× | $(verdict "$worst" ">=" 1.0) |"
    done
    echo
    echo "## Blob GET of a 1 MiB layer (wrk \`-d$DURATION\`, Basic credentials)"
    echo
    echo "| Connections | Cargoman req/s | p99 ms | distribution req/s | p99 ms | Cargoman/distribution | Target ≥ 1.0× | Errors |"
    echo "|---:|---:|---:|---:|---:|---:|---|---|"
    for conc in 1 16; do
        r=$(ratio "${RPS[cm-$conc]}" "${RPS[dr-$conc]}")
        echo "| $conc | ${RPS[cm-$conc]} | ${P99[cm-$conc]} | ${RPS[dr-$conc]} | ${P99[dr-$conc]} | ${r}× | $(verdict "$r" ">=" 1.0) | ${ERRS[cm-$conc]}/${ERRS[dr-$conc]} |"
    done
    echo
    echo "## Peak memory (VmHWM)"
    echo
    echo "After the pushes (the $BIG_MIB MiB ones included), and over the whole run; the latter counts the"
    echo "pages of blob files Cargoman maps to serve them (page cache, shared with the kernel)."
    echo
    echo "| | Cargoman | distribution | Target |"
    echo "|---|---:|---:|---|"
    echo "| peak RSS after the pushes, MiB | $CM_PUSH_RSS | $DR_PUSH_RSS | Cargoman < 64 MiB: $(verdict "$CM_PUSH_RSS" "<" 64) |"
    echo "| peak RSS over the run, MiB | $CM_RSS | $DR_RSS | |"
} >"$RESULTS"
results_summary container "## Container registry against CNCF distribution (\`bench/oci.sh\`)"

log "results written to $RESULTS"
cat "$RESULTS"
