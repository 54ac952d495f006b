#!/usr/bin/env bash
# test_cgroup.sh - a process in a cgroup with a CPU quota sizes its threads
# from the quota, not from the host's CPUs: a real cgroup made here (v1's
# cpu controller, or v2's cpu.max), `strata config` run inside it. Needs
# root and a writable cgroup hierarchy; skips (saying so) otherwise.
#
# Usage: bash test_cgroup.sh PATH-TO-STRATA REPO-ROOT
set -u

E2E_NAME=cgroup
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" "$@"

if [ "$(id -u)" -ne 0 ]; then
    echo "skip: the cgroup test needs root"
    echo "0 passed, 0 failed"
    exit 0
fi

# make_cgroup: a new cgroup with a quota of QUOTA_US per 100 ms period;
# sets $cg (its directory) and $v (1 or 2); false when none can be made.
cg=
make_cgroup() {
    local quota=$1 name=strata-e2e-$$
    if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
        # v2: the cpu controller must be on for the children of the root
        grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
            echo +cpu >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
        mkdir -p "/sys/fs/cgroup/$name" 2>/dev/null &&
            echo "$quota 100000" >"/sys/fs/cgroup/$name/cpu.max" 2>/dev/null &&
            { cg=/sys/fs/cgroup/$name; v=2; return 0; }
        rmdir "/sys/fs/cgroup/$name" 2>/dev/null
    fi
    local d
    for d in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
        [ -f "$d/cpu.cfs_quota_us" ] || continue
        mkdir -p "$d/$name" 2>/dev/null &&
            echo "$quota" >"$d/$name/cpu.cfs_quota_us" 2>/dev/null &&
            { cg=$d/$name; v=1; return 0; }
        rmdir "$d/$name" 2>/dev/null
    done
    return 1
}

# jobs_in QUOTA_US: the default number of threads `strata config` reports
# when run inside a cgroup with that quota.
jobs_in() {
    make_cgroup "$1" || return 1
    bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" config --isolated "$3"' _ "$cg" "$strata" "$tmp" \
        2>/dev/null | sed -n 's/^jobs *= \([0-9]*\).*/\1/p'
    rmdir "$cg" 2>/dev/null
}

cpus=$(nproc --all 2>/dev/null || echo 1)
v=
if make_cgroup 50000; then rmdir "$cg" 2>/dev/null; fi
got=$(jobs_in 50000)
if [ -z "$v" ] || [ -z "$got" ]; then
    echo "skip: no cgroup with a CPU quota can be made here"
    echo "0 passed, 0 failed"
    exit 0
fi
echo "cgroup: v$v, $cpus CPUs online"
if [ "$got" = 1 ]; then pass; else fail "half a CPU: jobs = $got, want 1"; fi
if [ "$cpus" -ge 2 ]; then
    got=$(jobs_in 150000)
    if [ "$got" = 2 ]; then pass; else fail "1.5 CPUs: jobs = $got, want 2"; fi
fi
got=$(jobs_in $((cpus * 400000)))
if [ "$got" = "$(nproc)" ]; then pass; else fail "a quota above the CPUs: jobs = $got, want $(nproc)"; fi
# outside any such cgroup: the CPUs this process may use
run config --isolated "$tmp"
got=$(printf '%s\n' "$out" | sed -n 's/^jobs *= \([0-9]*\).*/\1/p')
if [ "$got" = "$(nproc)" ]; then pass; else fail "no quota: jobs = $got, want $(nproc)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
