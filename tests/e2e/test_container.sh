#!/usr/bin/env bash
# test_container.sh - the image of docker/Dockerfile and the cluster of
# docker/compose.yml, run by podman as a user would.
#
# The base image debian:12 is made with mmdebstrap from the mirror this
# host's apt uses when podman has none (no registry is reached); the
# image is built from the repository (the build's npm step trusts this
# host's CA bundle through the optional extra-ca secret, for a proxy that
# intercepts TLS); it is small, runs as user 10001 and keeps its
# HEALTHCHECK. Then docker/compose-run.py starts what compose.yml
# describes on the host's network and loopback: a keyed coordinator and
# three workers. The standard library submitted from this host prints
# byte for byte what `strata check` prints; a worker container killed
# mid-batch changes nothing (its jobs are sent again); the coordinator's
# container, removed and started again, finds its cache in the volume (a
# second submit uploads and scans nothing, its checks all cached, hits of
# the disk tier).
#
# podman runs with docker/containers.conf (CONTAINERS_CONF: runc, no
# default ulimits). Runs as root only, which is how `make test` runs in
# CI (scripts/bootstrap.sh installs podman, runc and mmdebstrap); skipped,
# saying so, when not root, and failed when podman cannot start a
# container as root.
#
# Usage: bash test_container.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=container
. "$(dirname "$0")/lib.sh" "$@"

skip() {
    echo "test_container: skipped: $*"
    echo "0 passed, 0 failed"
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip "not root (podman builds and runs the image as root here)"
missing=""
for tool in podman runc mmdebstrap curl python3 git; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    fail "missing$missing although bootstrap runs as root: run scripts/bootstrap.sh"
    echo "$passed passed, $failed failed"
    exit 1
fi

export CONTAINERS_CONF="$repo/docker/containers.conf"
base=docker.io/library/debian:12
image=strata:local
project="strata-e2e-$$"
compose=("$repo/docker/compose-run.py" -f "$tmp/docker/compose.yml" -p "$project")
t0=$(date +%s)

# every container and volume of this run goes, whatever happens
down() {
    timeout 120 "${compose[@]}" down --volumes >/dev/null 2>&1
}
trap 'down; stop_all; cleanup' EXIT

# ---- the base image: mmdebstrap when podman has no debian:12 ----------------
if ! podman image exists "$base"; then
    mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' \
        2>/dev/null | awk '$2 == "bookworm" { print $1; exit }')
    mirror=${mirror:-http://deb.debian.org/debian}
    if timeout 900 mmdebstrap --variant=minbase bookworm "$tmp/base.tar" "$mirror" \
        >"$tmp/mmdebstrap.log" 2>&1 &&
        timeout 300 podman import "$tmp/base.tar" "$base" >/dev/null 2>"$tmp/import.err"; then
        pass
    else
        fail "making $base from $mirror: $(tail -n 5 "$tmp/mmdebstrap.log" "$tmp/import.err" 2>/dev/null)"
    fi
    rm -f "$tmp/base.tar"
fi
if ! timeout 120 podman run --rm --network host "$base" true >"$tmp/probe.log" 2>&1; then
    # as root, with the bootstrap's podman and runc, a container must run:
    # a failure here is the test's to report, not a reason to skip
    fail "podman cannot start a container here: $(tail -n 3 "$tmp/probe.log")"
    echo "$passed passed, $failed failed"
    exit 1
fi
echo "base image ready after $(($(date +%s) - t0)) s"

# ---- the image ----------------------------------------------------------------
# compose.yml names ./keys beside it: the test runs a copy in $tmp/docker
mkdir -p "$tmp/docker"
cp "$repo/docker/compose.yml" "$tmp/docker/compose.yml"
sed -i "s|^      context: \.\.$|      context: $repo|" "$tmp/docker/compose.yml"
secret=()
ca=${STRATA_EXTRA_CA:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$ca" ] && secret=(--secret "id=extra-ca,src=$ca")
# readme_lines: the indented lines of deploy/README.md's section Compose
# (continuation lines joined), the commands this test runs
readme_lines() {
    awk '$0 == "## Compose" { on = 1; next } /^## / { on = 0 } on && /^    / { print }' \
        "$repo/deploy/README.md" | sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' -e 's/^    //'
}
# readme_run SECONDS PREFIX [EXTRA...]: runs the README's line that
# starts with PREFIX, in $tmp, with compose-run.py and strata from this
# tree, EXTRA arguments at the end, for SECONDS at most
readme_run() {
    local secs=$1 line
    line=$(readme_lines | grep -m 1 -- "^$2")
    shift 2
    if [ -z "$line" ]; then
        echo "deploy/README.md's Compose section has no such line" >&2
        return 2
    fi
    line=${line/#docker\/compose-run.py/$repo/docker/compose-run.py}
    line=${line/#strata /\"\$STRATA\" }
    STRATA="$strata" timeout "$secs" bash -c "$line \"\$@\"" sh "$@"
}
export COMPOSE_PROJECT_NAME=$project
tb=$(date +%s)
if readme_run 2400 "docker/compose-run.py -f docker/compose.yml build" "${secret[@]}" \
    >"$tmp/build.log" 2>&1; then
    pass
else
    fail "the image did not build: $(tail -n 20 "$tmp/build.log")"
    echo "$passed passed, $failed failed"
    exit 1
fi
echo "image built in $(($(date +%s) - tb)) s"
# small: only the binary, its libraries and the stubs (about 70 MB)
size=$(podman image inspect --format '{{.Size}}' "$image")
if [ "$size" -lt $((100 * 1000 * 1000)) ]; then pass; else fail "the image is $size bytes"; fi
echo "image size: $((size / 1000000)) MB"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[ "$user" = "10001:10001" ] && pass || fail "the image's user is '$user'"
hc=$(podman image inspect --format '{{.HealthCheck.Test}}' "$image" 2>/dev/null)
has "the image keeps its HEALTHCHECK" "$hc" "strata health"
run_img() { timeout 60 podman run --rm --network host "$image" "$@"; }
has "strata runs in the image" "$(run_img version 2>&1)" "strata"
# the libraries loaded on first use are there: keygen (libzmq), JUnit
# output (libxml2), git's ignore rules (libgit2); the daemons below need
# libzmq and libmicrohttpd
has "keygen in the image (libzmq)" "$(run_img keygen --dir /tmp --name x 2>&1)" "public key"
mkdir -p "$tmp/gitproj"
git -C "$tmp/gitproj" init -q
printf 'import os\n' >"$tmp/gitproj/m.py"
printf 'import sys\n' >"$tmp/gitproj/ignored.py"
printf 'ignored.py\n' >"$tmp/gitproj/.gitignore"
out=$(timeout 60 podman run --rm --network host -v "$tmp/gitproj:/p:ro" "$image" check \
    --no-cache --output-format junit /p 2>&1)
has "JUnit output in the image (libxml2)" "$out" "<testsuites"
has "the report names the file" "$out" 'file="/p/m.py"'
if printf '%s' "$out" | grep -q ignored.py; then
    fail "git's ignore rules in the image (libgit2): $out"
else
    pass
fi

# ---- keys, ports, the cluster -------------------------------------------------
# the README's key block (its first lines: mkdir, keygen, cp, chown), here
k="$tmp/docker/keys"
readme_lines | awk '/^(mkdir|strata keygen|cp|chown) / { print; next } { exit }' >"$tmp/keys.sh"
if [ -s "$tmp/keys.sh" ] && STRATA="$strata" bash -e -c 'strata() { "$STRATA" "$@"; }; . ./keys.sh' \
    >"$tmp/keys.out" 2>&1 && [ -f "$k/coordinator/coordinator.key" ] &&
    [ "$(stat -c %u "$k/worker/worker.key")" = 10001 ]; then
    pass
else
    fail "deploy/README.md's key commands: $(cat "$tmp/keys.sh" "$tmp/keys.out")"
fi

port=$(free_ports)
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export STRATA_PORT=$port STRATA_WORKERS_PORT=$((port + 1)) STRATA_METRICS_PORT=$mport
unset STRATA_LISTEN
addr="tcp://127.0.0.1:$port"
metrics="http://127.0.0.1:$mport/metrics"
client=(--keys "$k/client" --server-key "$k/coordinator/coordinator.pub")

# metric NAME: its value on the coordinator's page (empty when absent)
metric() {
    curl -s --max-time 5 "$metrics" 2>/dev/null | awk -v s="$1" '$1 == s { print $2 }'
}
# until_metric NAME OP N [SECONDS]: waits until the value compares OP N
until_metric() {
    local v
    for _ in $(seq 1 $((${4:-30} * 10))); do
        v=$(metric "$1")
        [ -n "$v" ] && [ "${v%.*}" "$2" "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
# logs_have CONTAINER TEXT [SECONDS]: until the container's log holds TEXT
logs_have() {
    for _ in $(seq 1 $((${3:-30} * 10))); do
        timeout 10 podman logs "$1" 2>&1 | grep -qF -- "$2" && return 0
        sleep 0.1
    done
    return 1
}

if readme_run 120 "docker/compose-run.py -f docker/compose.yml up" >"$tmp/up.log" 2>&1; then pass; else
    fail "compose-run up: $(tail -n 5 "$tmp/up.log")"
fi
coord="$project-coordinator-1"
logs_have "$coord" "clients and workers authenticated" && pass ||
    fail "the coordinator did not start: $(podman logs "$coord" 2>&1 | tail -n 5)"
for w in 1 2 3; do
    logs_have "$project-worker-$w" "working for" && pass ||
        fail "worker $w did not connect: $(podman logs "$project-worker-$w" 2>&1 | tail -n 5)"
done
until_metric strata_workers_connected -eq 3 && pass ||
    fail "strata_workers_connected is '$(metric strata_workers_connected)', want 3"

# not root: the daemons' processes run as 10001 on the host
pid=$(podman inspect --format '{{.State.Pid}}' "$coord")
[ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = 10001 ] && pass ||
    fail "the coordinator's process runs as uid $(stat -c %u "/proc/$pid" 2>/dev/null)"
# the HEALTHCHECK, run as the engine runs it
if timeout 30 podman healthcheck run "$coord" >"$tmp/health.out" 2>&1; then pass; else
    fail "podman healthcheck run: $(cat "$tmp/health.out")"
fi
"$strata" health "127.0.0.1:$mport" 2>/dev/null && pass || fail "strata health from the host"

# ---- the standard library, submitted from this host ---------------------------
lib=/usr/lib/python3.11
"$strata" check --no-cache --no-workers --root "$lib" "$lib" >"$tmp/check.out" 2>/dev/null
want_lib=$?
want=$want_lib
ts=$(date +%s%N)
# the README's submit line, with this run's port and the stdlib for src/
sline=$(readme_lines | grep -m 1 '^strata submit ')
sline=${sline/tcp:\/\/127.0.0.1:7700/$addr}
sline=${sline% src/}
if [ -n "$sline" ] && [ "$sline" != "$(readme_lines | grep -m 1 '^strata submit ')" ]; then pass; else
    fail "deploy/README.md's Compose section has no submit to tcp://127.0.0.1:7700 of src/"
fi
STRATA="$strata" timeout 300 bash -c "${sline/#strata /\"\$STRATA\" } \"\$@\"" sh --timeout 60 \
    --root "$lib" "$lib" >"$tmp/submit.out" 2>"$tmp/submit.err"
got=$?
echo "stdlib submitted cold in $((($(date +%s%N) - ts) / 1000000)) ms"
if [ "$got" -eq "$want" ] && [ -s "$tmp/check.out" ] && cmp -s "$tmp/check.out" "$tmp/submit.out"; then
    pass
else
    fail "the stdlib: submit exit $got (check $want): $(tail -n 3 "$tmp/submit.err")"
    diff "$tmp/check.out" "$tmp/submit.out" | head -5 >&2
fi
line=$(podman logs "$coord" 2>&1 | grep "batch from" | tail -n 1)
echo "coordinator: $line"
if printf '%s' "$line" | grep -qE ', [1-9][0-9]* on workers, 0 here\)'; then pass; else
    fail "the check jobs ran on the workers: $line"
fi

# ---- a worker killed mid-batch ------------------------------------------------
# A copy of the library with one more line in each file: every scan runs
# again. Worker 2 is stopped (SIGSTOP) as the batch starts, so that the
# jobs sent to it stay in flight, and its container is killed once jobs
# have gone out: those jobs must go to the other two.
cp -r "$lib" "$tmp/lib2"
find "$tmp/lib2" -name __pycache__ -prune -exec rm -rf {} +
find "$tmp/lib2" -name '*.py' -exec sh -c 'for f; do printf "\n# copy\n" >>"$f"; done' sh {} +
"$strata" check --no-cache --no-workers --root "$tmp/lib2" "$tmp/lib2" >"$tmp/check2.out" 2>/dev/null
want=$?
dispatched=$(metric strata_jobs_dispatched_total)
retried=$(metric strata_jobs_retried_total)
wpid=$(podman inspect --format '{{.State.Pid}}' "$project-worker-2")
kill -STOP "$wpid"
timeout 300 "$strata" submit --coordinator "$addr" "${client[@]}" --timeout 60 --root "$tmp/lib2" \
    "$tmp/lib2" >"$tmp/submit2.out" 2>"$tmp/submit2.err" &
sub=$!
until_metric strata_jobs_dispatched_total -ge $((${dispatched%.*} + 40)) 60 ||
    fail "no job went out for the second submit"
timeout 60 podman kill "$project-worker-2" >/dev/null 2>&1 && pass || fail "podman kill worker 2"
wait "$sub"
got=$?
if [ "$got" -eq "$want" ] && [ -s "$tmp/check2.out" ] && cmp -s "$tmp/check2.out" "$tmp/submit2.out"; then
    pass
else
    fail "a worker killed mid-batch: submit exit $got (check $want): $(tail -n 3 "$tmp/submit2.err")"
    diff "$tmp/check2.out" "$tmp/submit2.out" | head -5 >&2
fi
now=$(metric strata_jobs_retried_total)
echo "jobs sent again after the kill: $((${now%.*} - ${retried%.*}))"
[ $((${now%.*} - ${retried%.*})) -gt 0 ] && pass ||
    fail "no job of the killed worker was sent again: it was not killed mid-batch"
until_metric strata_workers_connected -eq 2 10 && pass ||
    fail "after the kill, strata_workers_connected is '$(metric strata_workers_connected)'"

# ---- the coordinator's container again: its cache is in the volume ----------
timeout 60 podman rm -f -t 10 "$coord" >/dev/null 2>&1
if timeout 60 "${compose[@]}" up coordinator >"$tmp/up2.log" 2>&1; then pass; else
    fail "compose-run up coordinator: $(tail -n 5 "$tmp/up2.log")"
fi
logs_have "$coord" "clients and workers authenticated" && pass ||
    fail "the new coordinator did not start: $(podman logs "$coord" 2>&1 | tail -n 5)"
until_metric strata_workers_connected -eq 2 30 && pass ||
    fail "the two workers left did not come back: '$(metric strata_workers_connected)'"
timeout 300 "$strata" submit --coordinator "$addr" "${client[@]}" --timeout 60 --root "$lib" "$lib" \
    >"$tmp/submit3.out" 2>"$tmp/submit3.err"
got=$?
if [ "$got" -eq "$want_lib" ] && cmp -s "$tmp/check.out" "$tmp/submit3.out"; then pass; else
    fail "the stdlib after the restart: exit $got: $(tail -n 3 "$tmp/submit3.err")"
fi
line=$(podman logs "$coord" 2>&1 | grep "batch from" | tail -n 1)
echo "coordinator after its restart: $line"
has "after the restart, nothing uploaded or scanned" "$line" " 0 uploaded, 0 scanned"
if printf '%s' "$line" | grep -qE ' 0 checks \([1-9][0-9]* cached, 0 on workers, 0 here\)'; then pass; else
    fail "after the restart, every check from the cache: $line"
fi
# a new process: those hits came from the disk tier, in the volume
hits=$(metric 'strata_cache_hits_total{tier="disk"}')
[ "${hits%.*}" -gt 0 ] 2>/dev/null && pass || fail "disk-tier cache hits after the restart: '$hits'"

# SIGTERM through the engine: every container stops in its grace period
ts=$(date +%s)
timeout 60 podman stop -t 10 "$coord" "$project-worker-1" "$project-worker-3" >/dev/null 2>&1
for c in "$coord" "$project-worker-1" "$project-worker-3"; do
    st=$(podman inspect --format '{{.State.ExitCode}}' "$c")
    [ "$st" = 0 ] && pass || fail "$c exited $st after SIGTERM"
done
[ $(($(date +%s) - ts)) -lt 10 ] && pass || fail "stopping took $(($(date +%s) - ts)) s"

echo "test_container: $(($(date +%s) - t0)) s in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
