# shellcheck shell=bash
# Test services for Cargoman: a throwaway PostgreSQL cluster and an s3s-fs S3 server.
#
# Usage (from a bash script; safe under `set -euo pipefail`):
#   source scripts/services.sh
#   services_install            # idempotent: apt packages + s3s-fs into $TOOLS_DIR
#   services_start              # starts both, exports CARGOMAN_TEST_* variables
#   trap services_stop EXIT     # stops both and removes their temp dirs (safe to call twice)
#
# Exported by services_start:
#   CARGOMAN_TEST_ORAS_PYTHON    a Python with oras-py (installed by services_install)
#   CARGOMAN_TEST_DOCKER         a docker CLI (the machine's, or one services_install extracted)
#   CARGOMAN_TEST_POSTGRES_URL   postgres://postgres@127.0.0.1:PORT/postgres (trust auth)
#   CARGOMAN_TEST_S3_ENDPOINT    http://127.0.0.1:PORT
#   CARGOMAN_TEST_S3_ACCESS_KEY  / CARGOMAN_TEST_S3_SECRET_KEY
#   CARGOMAN_TEST_S3_REGION      us-east-1 (s3s-fs accepts any region)
#   CARGOMAN_TEST_S3_DIR         s3s-fs data dir; a bucket is a subfolder (mkdir it to create one)
#   CARGOMAN_TEST_NODE_CLIENTS   node_modules holding pnpm, yarn 1 and yarn 4 (run them with node;
#                                npm itself comes with node)

# Built test tools live outside the checkout, so a fresh clone (CI) finds the s3s-fs that an
# earlier run built instead of spending ~12 minutes rebuilding it.
: "${TOOLS_DIR:=${CARGOMAN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cargoman-tools}}"
S3S_FS_VERSION="0.14.1"
ORAS_PY_VERSION="0.2.43"
# JavaScript clients of the npm tests. The npm mirror available here serves `latest` tags only,
# so yarn is pinned by exact version (plain `yarn` would be 2.x) and yarn 4 comes as its dist.
# nuget-exe carries NuGet.exe 5.8 (run with mono) for the NuGet tests.
NODE_CLIENTS="pnpm yarn@1.22.22 @yarnpkg/cli-dist@4 nuget-exe@5.8.0"

_SERVICES_PG_DIR="${_SERVICES_PG_DIR:-}"
_SERVICES_PG_BIN="${_SERVICES_PG_BIN:-}"
_SERVICES_S3_DIR="${_SERVICES_S3_DIR:-}"
_SERVICES_S3_PID="${_SERVICES_S3_PID:-}"

_services_log() { echo "services: $*" >&2; }

# Run a command as root (directly, or via sudo when not root).
_services_as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Run a command as the PostgreSQL owner: `postgres` when we are root
# (initdb/postgres refuse to run as root), otherwise the current user.
_services_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Print a TCP port on 127.0.0.1 that nothing currently uses. Picks from
# 20000-32767 (below Linux's default ephemeral range) and skips any port that
# appears in /proc/net/tcp{,6}. There is still a small race; callers retry.
_services_free_port() {
    local port hex
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12768))
        hex=$(printf '%04X' "$port")
        if ! grep -qs ":$hex " /proc/net/tcp /proc/net/tcp6; then
            echo "$port"
            return 0
        fi
    done
    _services_log "could not find a free port"
    return 1
}

services_install() {
    local missing=() pkg
    # Real clients the tests drive: curl (Generic), composer with PHP (Composer), git (fixtures),
    # python3 (a terminal for `npm login`'s password prompt), skopeo, buildah, podman and (from
    # PyPI, below) oras-py (Container), openssl (the test CA of the https test), mono and Debian's
    # nuget 2.8 (NuGet; NuGet.exe 5.8 comes from npm, below).
    local clients=(curl ca-certificates git composer php-cli php-zip unzip python3 skopeo buildah
                   podman python3-venv openssl mono-devel nuget
                   # Maven: mvn with the plugins its tests run (from Debian's local repository), Gradle
                   maven maven-debian-helper libmaven-deploy-plugin-java libmaven-install-plugin-java
                   libmaven-dependency-plugin-java libmaven-resources-plugin-java
                   libmaven-compiler-plugin-java libmaven-jar-plugin-java libsurefire-java gradle
                   golang-go
                   # pacman: the client, makepkg and repo-add (tests build and compare with them),
                   # bsdtar, the compressors of package files, fakeroot for installs as a user,
                   # gpg for detached signatures
                   pacman-package-manager makepkg libarchive-tools zstd xz-utils fakeroot gpg)
    for pkg in postgresql "${clients[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        _services_log "installing apt packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        _services_as_root apt-get update
        # Install postgresql-common first and turn off its automatic "main"
        # cluster, so installing postgresql does not leave a system server
        # running on port 5432 (the same trick as the official postgres image).
        _services_as_root apt-get install -y --no-install-recommends postgresql-common curl ca-certificates
        if [ -f /etc/postgresql-common/createcluster.conf ]; then
            _services_as_root sed -ri 's/^#?\s*create_main_cluster\s*=.*$/create_main_cluster = false/' \
                /etc/postgresql-common/createcluster.conf
        fi
        _services_as_root apt-get install -y --no-install-recommends postgresql "${clients[@]}"
    fi

    if ! "$TOOLS_DIR/oras/bin/python" -c 'import oras' 2>/dev/null; then
        _services_log "installing oras-py $ORAS_PY_VERSION into $TOOLS_DIR/oras"
        mkdir -p "$TOOLS_DIR"
        python3 -m venv "$TOOLS_DIR/oras"
        "$TOOLS_DIR/oras/bin/pip" install -q "oras==$ORAS_PY_VERSION"
    fi

    # The Docker CLI for `docker manifest inspect` (Container): the machine's, or else the client
    # alone out of Debian's docker.io package (no engine is needed, nor installed or started).
    if ! command -v docker >/dev/null && [ ! -x "$TOOLS_DIR/docker/usr/bin/docker" ]; then
        _services_log "extracting the docker client of Debian's docker.io into $TOOLS_DIR/docker"
        mkdir -p "$TOOLS_DIR/docker"
        (cd "$TOOLS_DIR/docker" \
            && { apt-get download docker.io || { _services_as_root apt-get update && apt-get download docker.io; }; } \
            && dpkg-deb --fsys-tarfile docker.io_*.deb | tar -x ./usr/bin/docker \
            && rm -f docker.io_*.deb)
    fi

    if [ ! -x "$TOOLS_DIR/bin/s3s-fs" ]; then
        _services_log "installing s3s-fs $S3S_FS_VERSION into $TOOLS_DIR"
        mkdir -p "$TOOLS_DIR"
        # Own temp target dir (never the repo's target/), so this does not
        # contend for the project's build lock.
        (unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR
         cargo install "s3s-fs@$S3S_FS_VERSION" --features binary --locked --root "$TOOLS_DIR")
    fi

    if ! command -v npm >/dev/null; then
        _services_log "installing node and npm"
        _services_as_root apt-get install -y --no-install-recommends nodejs npm
    fi
    _services_install_node_clients
}

# Installs the JavaScript clients into $TOOLS_DIR/node once (again when NODE_CLIENTS changes).
_services_install_node_clients() {
    local dir="$TOOLS_DIR/node"
    if [ -f "$dir/installed" ] && [ "$(cat "$dir/installed")" = "$NODE_CLIENTS" ]; then
        return 0
    fi
    _services_log "installing $NODE_CLIENTS into $dir"
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
    # shellcheck disable=SC2086 # one word per package
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error $NODE_CLIENTS)
    echo "$NODE_CLIENTS" >"$dir/installed"
}

_services_pg_bin() {
    local d
    d=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        _services_log "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (run services_install)"
        return 1
    fi
    echo "$d"
}

_services_start_postgres() {
    local bin dir port attempt
    bin=$(_services_pg_bin)
    dir=$(mktemp -d /tmp/cargoman-pg.XXXXXX)
    _SERVICES_PG_DIR="$dir"
    _SERVICES_PG_BIN="$bin"
    chmod 0755 "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi

    _services_as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        _services_log "initdb failed"
        return 1
    }

    for attempt in 1 2 3 4 5; do
        port=$(_services_free_port)
        # Later settings win, so appending on retry is fine.
        _services_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
        if _services_as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null 2>&1 \
            && _services_wait_pg "$bin" "$port"; then
            export CARGOMAN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
            return 0
        fi
        _services_log "postgres failed to start on port $port (attempt $attempt)"
        _services_as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    tail -n 30 "$dir/postgres.log" >&2 || true
    return 1
}

_services_wait_pg() {
    local bin=$1 port=$2
    for _ in $(seq 1 100); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then return 0; fi
        sleep 0.1
    done
    return 1
}

_services_start_s3() {
    local dir port attempt code
    local bin="$TOOLS_DIR/bin/s3s-fs"
    if [ ! -x "$bin" ]; then
        _services_log "$bin not found (run services_install)"
        return 1
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/cargoman-s3.XXXXXX")
    _SERVICES_S3_DIR="$dir"
    mkdir -p "$dir/data"
    local access_key="cargoman-test-access" secret_key="cargoman-test-secret-key"

    for attempt in 1 2 3 4 5; do
        port=$(_services_free_port)
        "$bin" --host 127.0.0.1 --port "$port" --access-key "$access_key" --secret-key "$secret_key" \
            "$dir/data" </dev/null >>"$dir/s3s-fs.log" 2>&1 &
        _SERVICES_S3_PID=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$_SERVICES_S3_PID" 2>/dev/null; then break; fi
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
            if [ -n "$code" ] && [ "$code" != "000" ]; then
                export CARGOMAN_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
                export CARGOMAN_TEST_S3_ACCESS_KEY="$access_key"
                export CARGOMAN_TEST_S3_SECRET_KEY="$secret_key"
                export CARGOMAN_TEST_S3_REGION="us-east-1"
                export CARGOMAN_TEST_S3_DIR="$dir/data"
                return 0
            fi
            sleep 0.1
        done
        _services_log "s3s-fs failed to start on port $port (attempt $attempt)"
        _services_stop_s3_process
    done
    tail -n 30 "$dir/s3s-fs.log" >&2 || true
    return 1
}

_services_stop_s3_process() {
    local pid="${_SERVICES_S3_PID:-}"
    _SERVICES_S3_PID=""
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true   # reap it (only works in the starting shell)
    return 0
}

services_start() {
    services_stop   # in case a previous start in this shell was not stopped
    # The Python that has oras-py (services_install), for the Container tests.
    export CARGOMAN_TEST_ORAS_PYTHON="$TOOLS_DIR/oras/bin/python"
    CARGOMAN_TEST_DOCKER=$(command -v docker || echo "$TOOLS_DIR/docker/usr/bin/docker")
    export CARGOMAN_TEST_DOCKER
    if ! _services_start_postgres || ! _services_start_s3; then
        services_stop
        return 1
    fi
    if [ -f "$TOOLS_DIR/node/installed" ]; then
        export CARGOMAN_TEST_NODE_CLIENTS="$TOOLS_DIR/node/node_modules"
    fi
    _services_log "postgres at $CARGOMAN_TEST_POSTGRES_URL (dir $_SERVICES_PG_DIR)"
    _services_log "s3s-fs at $CARGOMAN_TEST_S3_ENDPOINT (data $CARGOMAN_TEST_S3_DIR)"
}

services_stop() {
    _services_stop_s3_process
    if [ -n "${_SERVICES_S3_DIR:-}" ]; then
        rm -rf "$_SERVICES_S3_DIR" || true
        _SERVICES_S3_DIR=""
    fi
    if [ -n "${_SERVICES_PG_DIR:-}" ]; then
        if [ -f "$_SERVICES_PG_DIR/data/postmaster.pid" ]; then
            _services_as_pg "$_SERVICES_PG_BIN/pg_ctl" -D "$_SERVICES_PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
                || _services_as_pg "$_SERVICES_PG_BIN/pg_ctl" -D "$_SERVICES_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 \
                || true
        fi
        rm -rf "$_SERVICES_PG_DIR" || true
        _SERVICES_PG_DIR=""
    fi
    unset CARGOMAN_TEST_POSTGRES_URL CARGOMAN_TEST_S3_ENDPOINT CARGOMAN_TEST_S3_ACCESS_KEY \
        CARGOMAN_TEST_S3_SECRET_KEY CARGOMAN_TEST_S3_REGION CARGOMAN_TEST_S3_DIR \
        CARGOMAN_TEST_NODE_CLIENTS CARGOMAN_TEST_ORAS_PYTHON CARGOMAN_TEST_DOCKER
    return 0
}
