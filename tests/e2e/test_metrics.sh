#!/usr/bin/env bash
# test_metrics.sh - end-to-end tests of the daemons' --metrics-bind: a
# coordinator and a worker serving /metrics, /healthz and /readyz on
# loopback; the values move with a batch (jobs dispatched, a worker
# connected, the batch-time histogram, the worker's jobs); both pages
# pass Debian's `promtool check metrics`, and a real Prometheus scrapes
# both (its HTTP API says `up` is 1 for each and has strata_ series);
# `strata health` answers 0 for a live daemon, 1 for a stopped one;
# 404, 405, a body refused; a port in use and a bad address are exit 2;
# many idle connections and slow (slowloris) clients to /metrics while a
# batch runs do not keep the batch from finishing, and the pages answer
# again once they are gone; SIGTERM stops both daemons at once.
#
# Needs curl, python3 and prometheus (promtool and the server), which
# scripts/bootstrap.sh installs; skipped, saying why, only when one is
# missing and this is not root (a root run has had bootstrap install them,
# so a missing one fails).
#
# Usage: bash test_metrics.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=metrics
. "$(dirname "$0")/lib.sh" "$@"

missing=""
for tool in curl python3 promtool prometheus; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "test_metrics: skipped: missing$missing (scripts/bootstrap.sh installs them as root)"
        echo "0 passed, 0 failed"
        exit 0
    fi
    fail "missing$missing although bootstrap runs as root: run scripts/bootstrap.sh"
    echo "$passed passed, $failed failed"
    exit 1
fi

WAIT_FOR_SECONDS=20

# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# status URL [CURL-ARGS...]: the HTTP status of a request (000: none).
status() {
    local url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url"
}

# value PAGE-FILE SERIES: the value of one series (its name with labels,
# exactly as on the page); empty when absent.
value() {
    awk -v s="$2" '$1 == s { print $2 }' "$1"
}

# until_value URL SERIES OP N: waits (10 s at most) until the series
# scraped from URL compares OP (-gt, -eq, -ge) with N; the page is left in
# $tmp/page.txt.
until_value() {
    local v
    for _ in $(seq 1 100); do
        curl -s --max-time 5 "$1" >"$tmp/page.txt" 2>/dev/null
        v=$(value "$tmp/page.txt" "$2")
        [ -n "$v" ] && [ "$v" "$3" "$4" ] && return 0
        sleep 0.1
    done
    return 1
}

# the port libmicrohttpd's log line names: "... metrics on http://H:P/metrics"
metrics_port() {
    sed -n 's|.*metrics on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$1" | head -n 1
}

# ---- usage -------------------------------------------------------------------
expect "coordinator: bad metrics address" 2 coordinator --bind "ipc://$tmp/u" --metrics-bind nonsense
has "bad address message" "$err" "metrics address nonsense: expected HOST:PORT"
expect "worker: bad metrics port" 2 worker --connect "ipc://$tmp/u" --metrics-bind 127.0.0.1:70000
has "bad port message" "$err" "the port must be 0 to 65535"
expect "help names the flag" 0 coordinator --help
has "coordinator help" "$out" "--metrics-bind HOST:PORT"
expect "worker help names the flag" 0 worker --help
has "worker help" "$out" "--metrics-bind HOST:PORT"

# ---- a coordinator and a worker ----------------------------------------------
"$strata" coordinator --bind "ipc://$tmp/c" --cache-dir "$tmp/cc" --metrics-bind 127.0.0.1:0 \
    2>"$tmp/coord.log" &
coord=$!
pids+=("$coord")
wait_for "$tmp/coord.log" "/metrics" || fail "coordinator: no metrics line: $(cat "$tmp/coord.log")"
cport=$(metrics_port "$tmp/coord.log")
curl_c="http://127.0.0.1:$cport"
[ "$(status "$curl_c/readyz")" = 200 ] && pass || fail "coordinator /readyz not 200"
[ "$(status "$curl_c/healthz")" = 200 ] && pass || fail "coordinator /healthz not 200"
# `strata health` (a container's HEALTHCHECK) asks the same page
expect "strata health, a live coordinator" 0 health "127.0.0.1:$cport"
STRATA_HEALTH="127.0.0.1:$cport" expect "strata health, the address from STRATA_HEALTH" 0 health
expect "strata health, a bad address" 2 health nonsense

# a port in use is an error at start, exit 2, saying so
expect "coordinator: metrics port in use" 2 coordinator --bind "ipc://$tmp/c2" \
    --cache-dir "$tmp/cc2" --metrics-bind "127.0.0.1:$cport"
has "port in use message" "$err" "cannot serve metrics on 127.0.0.1:$cport: Address already in use"
expect "worker: metrics port in use" 2 worker --connect "ipc://$tmp/c.workers" \
    --metrics-bind "127.0.0.1:$cport"
has "worker port in use message" "$err" "Address already in use"

# a worker's /readyz is 503 until a coordinator answers it
wport=$(free_port)
"$strata" worker --connect "ipc://$tmp/nobody" --threads 1 --metrics-bind "127.0.0.1:$wport" \
    2>"$tmp/lonely.log" &
lonely=$!
pids+=("$lonely")
wait_for "$tmp/lonely.log" "/metrics" || fail "lonely worker: no metrics line"
[ "$(status "http://127.0.0.1:$wport/readyz")" = 503 ] && pass || fail "lonely worker ready"
[ "$(status "http://127.0.0.1:$wport/healthz")" = 200 ] && pass || fail "lonely worker not alive"
kill -TERM "$lonely"
wait "$lonely"
lrc=$?
[ "$lrc" -eq 0 ] && pass || fail "lonely worker: exit $lrc after SIGTERM"
[ "$(status "http://127.0.0.1:$wport/healthz")" = 000 ] && pass || fail "worker's port still open"

"$strata" worker --connect "ipc://$tmp/c.workers" --threads 2 --metrics-bind 127.0.0.1:0 \
    2>"$tmp/worker.log" &
worker=$!
pids+=("$worker")
wait_for "$tmp/worker.log" "working for" || fail "worker: not working: $(cat "$tmp/worker.log")"
wport=$(metrics_port "$tmp/worker.log")
curl_w="http://127.0.0.1:$wport"
[ "$(status "$curl_w/readyz")" = 200 ] && pass || fail "worker /readyz not 200"
[ "$(status "$curl_w/healthz")" = 200 ] && pass || fail "worker /healthz not 200"
until_value "$curl_c/metrics" strata_workers_connected -eq 1 && pass ||
    fail "strata_workers_connected not 1: $(grep workers_connected "$tmp/page.txt")"

# ---- a batch moves the values ------------------------------------------------
mkdir -p "$tmp/proj"
for i in $(seq 1 60); do
    printf 'import os\nimport sys\n\ndef f%d(a, b=2):\n    return a + b + len(sys.argv)\n' "$i" \
        >"$tmp/proj/m$i.py"
done
timeout 60 "$strata" submit --coordinator "ipc://$tmp/c" --no-environment "$tmp/proj" \
    >"$tmp/submit.out" 2>"$tmp/submit.err"
src=$?
[ "$src" -eq 1 ] && pass || fail "submit: exit $src, want 1 (unused imports): $(cat "$tmp/submit.err")"
# (the main loop's counts are copied for the page every 100 ms)
until_value "$curl_c/metrics" strata_jobs_dispatched_total -gt 0 && pass ||
    fail "strata_jobs_dispatched_total is $(value "$tmp/page.txt" strata_jobs_dispatched_total)"
until_value "$curl_c/metrics" strata_batch_duration_seconds_count -eq 1 && pass ||
    fail "no batch counted"
cp "$tmp/page.txt" "$tmp/coord.txt"
v=$(value "$tmp/coord.txt" strata_client_uploaded_bytes_total)
[ "${v:-0}" -gt 0 ] && pass || fail "strata_client_uploaded_bytes_total is ${v:-absent}"
v=$(value "$tmp/coord.txt" 'strata_cache_misses_total{tier="memory"}')
[ "${v:-0}" -gt 0 ] && pass || fail "memory-tier misses are ${v:-absent}"
v=$(value "$tmp/coord.txt" 'strata_batch_duration_seconds_bucket{le="+Inf"}')
[ "${v:-0}" -eq 1 ] && pass || fail "the +Inf bucket is ${v:-absent}"
grep -q '^strata_worker_slots{worker=".*"} 2$' "$tmp/coord.txt" && pass ||
    fail "no per-worker slots: $(grep worker_slots "$tmp/coord.txt")"
grep -q '^strata_messages_refused_total{reason="client_malformed"} 0$' "$tmp/coord.txt" && pass ||
    fail "no refused messages by reason"
until_value "$curl_w/metrics" strata_worker_jobs_run_total -gt 0 && pass ||
    fail "the worker ran no job"
cp "$tmp/page.txt" "$tmp/worker.txt"
v=$(value "$tmp/worker.txt" strata_worker_cache_misses_total)
[ "${v:-0}" -gt 0 ] && pass || fail "worker cache misses are ${v:-absent}"

# ---- the format: promtool, and a real Prometheus -----------------------------
for page in coord worker; do
    if promtool check metrics <"$tmp/$page.txt" >"$tmp/promtool.$page" 2>&1; then
        pass
    else
        fail "promtool check metrics on the $page page: $(cat "$tmp/promtool.$page")"
    fi
done

pport=$(free_port)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: strata
    static_configs:
      - targets: ['127.0.0.1:$cport', '127.0.0.1:$wport']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
prom=$!
pids+=("$prom")
api="http://127.0.0.1:$pport/api/v1/query"
ups=""
for _ in $(seq 1 200); do
    ups=$(curl -s --max-time 2 "$api?query=sum(up)" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
    [ "$ups" = 2 ] && break
    sleep 0.1
done
[ "$ups" = 2 ] && pass || fail "prometheus: sum(up) is '${ups}', want 2: $(tail -n 5 "$tmp/prometheus.log")"
dispatched=$(curl -s --max-time 2 "$api?query=strata_jobs_dispatched_total" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
[ "${dispatched:-0}" -gt 0 ] 2>/dev/null && pass ||
    fail "prometheus: strata_jobs_dispatched_total is '${dispatched}'"
run_jobs=$(curl -s --max-time 2 "$api?query=strata_worker_jobs_run_total" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
[ "${run_jobs:-0}" -gt 0 ] 2>/dev/null && pass ||
    fail "prometheus: strata_worker_jobs_run_total is '${run_jobs}'"
kill -TERM "$prom"
wait "$prom" 2>/dev/null

# ---- paths, methods, bodies --------------------------------------------------
[ "$(status "$curl_c/")" = 404 ] && pass || fail "/ not 404"
[ "$(status "$curl_c/metricsx")" = 404 ] && pass || fail "/metricsx not 404"
[ "$(status "$curl_c/metrics" -X POST -d x=1)" = 405 ] && pass || fail "POST not 405"
[ "$(status "$curl_w/healthz" -X PUT -d x=1)" = 405 ] && pass || fail "PUT not 405"
[ "$(status "$curl_c/metrics" -X GET -d x=1)" = 413 ] && pass || fail "a body not refused"

# ---- hostile clients while a batch runs --------------------------------------
# 300 idle connections and 20 slow ones that send a header byte every
# 300 ms, to the coordinator's /metrics and the worker's, for 8 s at most
cat >"$tmp/hostile.py" <<'PY'
import socket, sys, time
ports = [int(p) for p in sys.argv[1:]]
socks, slow = [], []
for i in range(300):
    try:
        s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]), timeout=2)
        socks.append(s)
    except OSError:
        pass
for i in range(20):
    try:
        s = socket.create_connection(("127.0.0.1", ports[i % len(ports)]), timeout=2)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    except OSError:
        pass
open(sys.argv[0] + ".ready", "w").close()
end = time.time() + 8
while time.time() < end:
    for s in slow:
        try:
            s.sendall(b"X")
        except OSError:
            pass
    time.sleep(0.3)
for s in socks + slow:
    s.close()
PY
python3 "$tmp/hostile.py" "$cport" "$wport" &
hostile=$!
for _ in $(seq 1 100); do [ -e "$tmp/hostile.py.ready" ] && break; sleep 0.1; done
mkdir -p "$tmp/proj2"
for i in $(seq 1 60); do
    printf 'import json\n\nclass C%d:\n    def m(self, x):\n        return json.dumps(x)\n' "$i" \
        >"$tmp/proj2/n$i.py"
done
timeout 30 "$strata" submit --coordinator "ipc://$tmp/c" --no-environment "$tmp/proj2" \
    >"$tmp/submit2.out" 2>"$tmp/submit2.err"
src=$?
[ "$src" -eq 0 ] && pass || fail "batch under hostile clients: exit $src: $(cat "$tmp/submit2.err")"
kill -0 "$coord" 2>/dev/null && pass || fail "the coordinator died under hostile clients"
kill -0 "$worker" 2>/dev/null && pass || fail "the worker died under hostile clients"
wait "$hostile"
until_value "$curl_c/metrics" strata_batch_duration_seconds_count -eq 2 && pass ||
    fail "the coordinator's page after the hostile clients"
[ "$(status "$curl_w/readyz")" = 200 ] && pass || fail "the worker's page after the hostile clients"

# ---- SIGTERM -----------------------------------------------------------------
start=$(date +%s%N)
kill -TERM "$worker" "$coord"
wait "$worker"
wrc=$?
wait "$coord"
crc=$?
ms=$((($(date +%s%N) - start) / 1000000))
pids=()
[ "$wrc" -eq 0 ] && [ "$crc" -eq 0 ] && pass || fail "after SIGTERM: worker exit $wrc, coordinator $crc"
[ "$ms" -lt 3000 ] && pass || fail "the daemons took $ms ms to stop"
[ "$(status "$curl_c/healthz")" = 000 ] && pass || fail "the coordinator's port still answers"
expect "strata health, a stopped coordinator" 1 health "127.0.0.1:$cport"
has "strata health says why" "$err" "http://127.0.0.1:$cport/healthz: Connection refused"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
