# Helpers shared by the benchmark scripts (sourced).

log() { printf '\n==> %s\n' "$*" >&2; }

die() { printf 'error: %s\n' "$*" >&2; exit 1; }

min_of() { printf '%s\n' "$@" | awk 'NR == 1 || $1 < m {m = $1} END {print m}'; }

calc() { awk "BEGIN {printf \"$1\", $2}"; }

free_port() {
    local p
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' && return
    fi
    while :; do
        p=$((20000 + RANDOM % 40000))
        ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
    done
}

verdict() { # value op target
    if awk -v v="$1" -v t="$3" "BEGIN {exit !(v $2 t)}"; then echo "met"; else echo "**missed**"; fi
}

# Stops nginx and Cargoman (pid in $CARGOMAN_PID) and removes $TMP unless KEEP_TMP=1; for traps.
stop_servers() {
    if [ -f "$TMP/nginx/nginx.pid" ]; then
        kill -QUIT "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null
        for _ in $(seq 50); do [ -f "$TMP/nginx/nginx.pid" ] || break; sleep 0.1; done
    fi
    if [ -n "$CARGOMAN_PID" ]; then
        kill "$CARGOMAN_PID" 2>/dev/null
        wait "$CARGOMAN_PID" 2>/dev/null
    fi
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "temp dir kept: $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}

# Installs the missing ones of the given Debian packages (nginx may live in /usr/sbin, off PATH)
# and sets NGINX to its binary.
apt_ensure() {
    local pkg need=()
    for pkg in "$@"; do
        if [ "$pkg" = nginx ]; then
            command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
        else
            command -v "$pkg" >/dev/null 2>&1 || need+=("$pkg")
        fi
    done
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]} (apt-get)"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y "${need[@]}" >/dev/null 2>&1 ||
            { $sudo apt-get update && $sudo apt-get install -y "${need[@]}"; }
    fi
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# Dies unless every given tool is on PATH; with PROFILE=1 perf is needed too.
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
    done
    if [ "${PROFILE:-0}" = 1 ] && ! command -v perf >/dev/null 2>&1; then
        die "PROFILE=1 needs perf (Debian: linux-perf)"
    fi
}

# Sets BIN (building the release binary unless SKIP_BUILD=1 or CARGOMAN_BIN is given), and
# GIT_REV / GIT_DIRTY describing what was built: only what goes into the binary counts as a change.
build_cargoman() {
    if [ -n "${CARGOMAN_BIN:-}" ]; then
        BIN=$CARGOMAN_BIN
    else
        BIN="$ROOT/target/release/cargoman"
        if [ "${SKIP_BUILD:-0}" != 1 ]; then
            log "cargo build --release (in $ROOT)"
            (cd "$ROOT" && cargo build --release)
        fi
    fi
    [ -x "$BIN" ] || die "no Cargoman binary at $BIN"
    GIT_REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
    GIT_DIRTY=$(cd "$ROOT" && git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock build.rs migrations 2>/dev/null |
        grep -q . && echo " (+ uncommitted changes to the source)" || true)
    if [ -n "${CARGOMAN_BIN:-}" ]; then GIT_REV="$BIN, tree at $GIT_REV"; fi
}

# Creates TMP (named after $1) and arranges that servers, a background helper ($HELPER_PID,
# stopped with SIGINT so perf writes its data) and TMP go away on exit.
bench_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/cargoman-$1.XXXXXX")
    chmod 755 "$TMP" # nginx workers may run as another user
    CARGOMAN_PID=""
    HELPER_PID=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    set +e
    if [ -n "$HELPER_PID" ]; then
        # SIGINT lets perf write its data; a shell loop ignores it in the background, so TERM follows.
        kill -INT "$HELPER_PID" 2>/dev/null
        sleep 0.5
        kill "$HELPER_PID" 2>/dev/null
        wait "$HELPER_PID" 2>/dev/null
    fi
    stop_servers
}

now() { date +%s.%N; }

elapsed() { awk -v s="$1" -v e="$2" 'BEGIN {printf "%.3f", e - s}'; }

# Starts nginx (daemon) serving $TMP/nginx/www as static files with sendfile, on a free port
# (NGINX_PORT); $1 is the default Content-Type, $2 optional directives for the server block
# (WebDAV for a deploy, say).
start_nginx() {
    NGINX_PORT=$(free_port)
    mkdir -p "$TMP/nginx/www" "$TMP/nginx/temp"
    chmod -R a+rX "$TMP/nginx/www"
    cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon on;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type $1;
    client_body_temp_path $TMP/nginx/temp/client_body;
    proxy_temp_path $TMP/nginx/temp/proxy;
    fastcgi_temp_path $TMP/nginx/temp/fastcgi;
    uwsgi_temp_path $TMP/nginx/temp/uwsgi;
    scgi_temp_path $TMP/nginx/temp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/nginx/www;
        ${2:-}
    }
}
CONF
    log "starting nginx on 127.0.0.1:$NGINX_PORT"
    "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" ||
        { cat "$TMP/nginx/error.log" >&2 || true; die "nginx did not start"; }
}

# Starts Cargoman ($BIN, admin token $TOKEN; an empty one makes it generate its own) on SQLite
# and the filesystem with its state in the given folder, on a free port (CARGOMAN_PORT), and waits
# until it is healthy. `api` then calls it. CARGOMAN_ENV may add space-separated KEY=VALUE settings.
start_cargoman() { # state dir
    local state=$1 i
    local -a extra=()
    [ -n "${CARGOMAN_ENV:-}" ] && read -ra extra <<<"$CARGOMAN_ENV"
    mkdir -p "$state"
    CARGOMAN_PORT=$(free_port)
    env ADMIN_TOKEN="$TOKEN" HOST=127.0.0.1 PORT="$CARGOMAN_PORT" BASE_URL="http://127.0.0.1:$CARGOMAN_PORT" \
        DATABASE_URL="sqlite://$state/c.db" STORAGE_PATH="$state/packages" GIT_CACHE_PATH="$state/git" \
        TASK_SYNC_INTERVAL=0 GIT_ALLOW_LOCAL=true RUST_LOG=warn "${extra[@]}" \
        "$BIN" serve >"$state/cargoman.log" 2>&1 &
    CARGOMAN_PID=$!
    for i in $(seq 300); do
        curl -sf -o /dev/null "http://127.0.0.1:$CARGOMAN_PORT/health" && return 0
        kill -0 "$CARGOMAN_PID" 2>/dev/null || { cat "$state/cargoman.log" >&2; die "Cargoman exited"; }
        sleep 0.1
    done
    cat "$state/cargoman.log" >&2
    die "Cargoman not healthy after 30 s"
}

stop_cargoman() {
    kill "$CARGOMAN_PID" 2>/dev/null || true
    wait "$CARGOMAN_PID" 2>/dev/null || true
    CARGOMAN_PID=""
}

api() { # method path [json body] -> body on stdout; dies on a non-2xx answer
    local method=$1 path=$2 body=${3:-} code
    local -a data=()
    [ -n "$body" ] && data=(-H 'Content-Type: application/json' --data "$body")
    code=$(curl -sS -o "$TMP/api.out" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $TOKEN" "${data[@]}" "http://127.0.0.1:$CARGOMAN_PORT$path")
    case $code in
        2??) cat "$TMP/api.out" ;;
        *) cat "$TMP/api.out" >&2; die "$method $path returned $code" ;;
    esac
}

wait_task() { # id -> task JSON once done; dies when it fails or takes over 30 minutes
    local id=$1 status
    local deadline=$((SECONDS + 1800))
    while :; do
        api GET "/api/v1/tasks/$id" >"$TMP/task.json"
        status=$(jq -r '.data.status' "$TMP/task.json")
        case $status in
            done) cat "$TMP/task.json"; return 0 ;;
            failed) cat "$TMP/task.json" >&2; die "task $id failed" ;;
        esac
        [ "$SECONDS" -lt "$deadline" ] || die "task $id not done after 30 minutes"
        sleep 0.02
    done
}

to_ms() { # wrk's "123.45us" / "1.2ms" / "1.1s" -> ms
    awk -v v="$1" 'BEGIN {
        u = v; sub(/[0-9.]+/, "", u); n = v; sub(/[a-z]+$/, "", n)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n}'
}

# wrk_cell url conc [header …] -> "req_s errors p50_ms p99_ms". wrk's own "Latency Avg" is left out:
# with one connection it disagrees with 1 / req/s by several times; the tables derive the mean
# time per request from req/s instead (connections / req/s, Little's law).
wrk_cell() { # url conc [header …]
    local url=$1 conc=$2 hdr threads out rps errs p50 p99
    shift 2
    local -a h=()
    for hdr in "$@"; do [ -n "$hdr" ] && h+=(-H "$hdr"); done
    threads=1
    [ "$conc" -gt 1 ] && threads=2
    out=$(wrk -t"$threads" -c"$conc" -d"$DURATION" --latency --timeout 30s "${h[@]}" "$url")
    printf '%s\n%s\n' "== $url c=$conc" "$out" >>"$TMP/wrk.log"
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    errs=$(awk '
        /Non-2xx or 3xx responses:/ {n += $NF}
        /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
        END {print n + 0}' <<<"$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
    echo "${rps:-0} $errs $p50 $p99"
}

# results_block name title footer table_fn: puts "title", the table `table_fn` prints and "footer"
# into bench/RESULTS.md between <!-- name --> markers (replacing the previous block, which
# bench/run.sh keeps when it rewrites the file). Needs BENCH_DIR and TMP.
results_block() {
    local name=$1 title=$2 footer=$3 table_fn=$4
    {
        echo "<!-- $name -->"
        echo "$title"
        echo
        "$table_fn"
        echo
        echo "$footer"
        echo "<!-- /$name -->"
    } >"$TMP/block.md"
    if grep -q "<!-- $name -->" "$BENCH_DIR/RESULTS.md"; then
        awk -v block="$TMP/block.md" -v first="<!-- $name -->" -v last="<!-- /$name -->" '
            $0 == first {while ((getline l < block) > 0) print l; skip = 1; next}
            $0 == last {skip = 0; next}
            !skip' "$BENCH_DIR/RESULTS.md" >"$TMP/results.md"
        cp "$TMP/results.md" "$BENCH_DIR/RESULTS.md"
    else
        { echo; cat "$TMP/block.md"; } >>"$BENCH_DIR/RESULTS.md"
    fi
}

# results_summary name title: the whole of $RESULTS (a script's own results file, its first line
# left out and its headings one level down) under `title` in bench/RESULTS.md, between markers
# bench/run.sh keeps.
results_summary() {
    _results_body() { sed -e '1d' -e 's/^## /### /' "$RESULTS"; }
    results_block "$1" "$2" "From [$(basename "$RESULTS")]($(basename "$RESULTS"))." _results_body
}
