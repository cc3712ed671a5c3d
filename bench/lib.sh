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
