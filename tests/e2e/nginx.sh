# nginx.sh - team cache servers for the remote cache tests: a private
# nginx serving Bazel's HTTP remote-cache protocol (GET, HEAD and a WebDAV
# PUT on /ac/<key> and /cas/<digest>), and a server that never answers.
#
# The real nginx, not a mock, so that strata meets what teams run: its
# status codes, keep-alive and chunked handling are nginx's. Each server
# lives in a directory of its own under $tmp (config, logs, temp files and
# the data it serves), listens on a free loopback port, and its pid goes
# in $pids, so that lib.sh's stop_all ends it on exit.
#
# Source it after lib.sh (or set $tmp and $pids first):
#   nginx_start NAME [MODE]   MODE ok (default), auth (basic auth, user ci,
#                             password secret), readonly (reads open, a PUT
#                             needs ci's password), tls (https with a
#                             certificate for 127.0.0.1 from a CA made here,
#                             $nginx_ca) or fail500 (every request
#                             answers 500); sets $nginx_port, $nginx_root
#                             (the directory served: ac/ and cas/ land in
#                             it), $nginx_dir and $nginx_url. A NAME used
#                             before keeps its data.
#   nginx_stop [NAME]         SIGTERM, then SIGKILL after 5 s (workers too)
#   nginx_pid [NAME]          prints the master's pid
#   hang_start                a server that accepts and never answers (it
#                             exits by itself after 120 s); sets $hang_port
# NAME defaults to the last started.
# shellcheck shell=bash disable=SC2034,SC2154

declare -A nginx__pids=()
nginx__last=

# nginx__free_port: prints a loopback port nobody listened on a moment ago.
nginx__free_port() {
    /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# nginx__answers PORT: whether something accepts connections on PORT.
nginx__answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# nginx__tls DIR: a CA (DIR/ca.pem) and a certificate it signed for
# 127.0.0.1 (DIR/server.pem, DIR/server.key), made once.
nginx__tls() {
    local dir=$1
    [ -s "$dir/server.pem" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=strata test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1 &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
            -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 &&
        printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/san.cnf" &&
        openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
            -CAcreateserial -extfile "$dir/san.cnf" -out "$dir/server.pem" >/dev/null 2>&1 || {
        echo "nginx_start: openssl could not make the test certificates" >&2
        return 2
    }
}

# nginx__conf DIR PORT MODE: writes DIR/nginx.conf.
nginx__conf() {
    local dir=$1 port=$2 mode=$3 user='' access='' listen_opts=''
    # As root, nginx's workers would run as nobody and could not write DIR.
    if [ "$(id -u)" -eq 0 ]; then user='user root;'; fi
    case $mode in
    ok) ;;
    auth)
        access="auth_basic \"strata team cache\";
            auth_basic_user_file $dir/htpasswd;"
        printf 'ci:{PLAIN}secret\n' >"$dir/htpasswd"
        ;;
    readonly)
        access="limit_except GET HEAD {
                auth_basic \"strata team cache\";
                auth_basic_user_file $dir/htpasswd;
            }"
        printf 'ci:{PLAIN}secret\n' >"$dir/htpasswd"
        ;;
    tls)
        nginx__tls "$dir" || return 2
        listen_opts=" ssl;
        ssl_certificate $dir/server.pem;
        ssl_certificate_key $dir/server.key"
        ;;
    fail500) access='return 500;' ;;
    *)
        echo "nginx_start: unknown mode '$mode' (ok, auth, readonly, tls, fail500)" >&2
        return 2
        ;;
    esac
    cat >"$dir/nginx.conf" <<EOF
$user
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port$listen_opts;
        root $dir/data;
        client_max_body_size 1g;
        location / {
            $access
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }
    }
}
EOF
}

nginx_start() {
    local name=${1:?usage: nginx_start NAME [ok|auth|fail500]} mode=${2:-ok}
    local dir="$tmp/nginx-$name" port pid
    mkdir -p "$dir/data" "$dir/tmp" || return 2
    for _ in 1 2 3 4 5; do
        port=$(nginx__free_port) || return 2
        nginx__conf "$dir" "$port" "$mode" || return 2
        /usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' \
            >>"$dir/stderr.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            if nginx__answers "$port"; then
                pids+=("$pid")
                nginx__pids[$name]=$pid
                nginx__last=$name
                nginx_port=$port
                nginx_root=$dir/data
                nginx_dir=$dir
                nginx_url=http://127.0.0.1:$port
                nginx_ca=
                if [ "$mode" = tls ]; then
                    nginx_url=https://127.0.0.1:$port
                    nginx_ca=$dir/ca.pem
                fi
                return 0
            fi
            sleep 0.1
        done
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        # another process took the port in between: try another one
        grep -q 'in use' "$dir/error.log" "$dir/stderr.log" 2>/dev/null || break
    done
    echo "nginx_start: nginx $name ($mode) did not start:" >&2
    tail -5 "$dir/error.log" "$dir/stderr.log" >&2 2>/dev/null
    return 2
}

nginx_pid() {
    local name=${1:-$nginx__last}
    printf '%s\n' "${nginx__pids[$name]:-}"
}

# nginx__forget PID: takes PID out of $pids.
nginx__forget() {
    local p kept=()
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
    pids=("${kept[@]}")
}

nginx_stop() {
    local name=${1:-$nginx__last} pid workers w
    pid=${nginx__pids[$name]:-}
    [ -n "$pid" ] || return 0
    # the workers' pids, in case the master has to be killed: SIGKILL on the
    # master alone would leave them serving
    workers=$(pgrep -P "$pid" 2>/dev/null)
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    for w in $workers; do kill -KILL "$w" 2>/dev/null; done
    wait "$pid" 2>/dev/null
    nginx__forget "$pid"
    unset "nginx__pids[$name]"
}

hang_start() {
    local portfile="$tmp/hang.port" pid
    rm -f "$portfile"
    /usr/bin/python3 -c '
import socket, sys, time
deadline = time.monotonic() + 120
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
s.settimeout(1)
with open(sys.argv[1] + ".new", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".new", sys.argv[1])
held = []
while time.monotonic() < deadline:
    try:
        held.append(s.accept()[0])  # kept open, never read, never answered
    except socket.timeout:
        pass
' "$portfile" &
    pid=$!
    for _ in $(seq 1 50); do
        if [ -s "$portfile" ]; then
            pids+=("$pid")
            hang_port=$(cat "$portfile")
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    echo "hang_start: the hanging server did not start" >&2
    return 2
}
