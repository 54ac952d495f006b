#!/usr/bin/env bash
# test_submit_env.sh - `strata submit` checks against the client's Python
# environment: a coordinator and a worker started with no environment at
# all (no PATH, no python3, no virtual environment) print byte for byte
# what `strata check --python ...` prints with the same settings, the
# standard library from the client's stubs and the packages from the
# client's site-packages. A second submit uploads no library content; a changed
# package file is uploaded and changes the result; --no-environment keeps
# the old behaviour (imports of installed packages unknown). Hostile
# clients: an answer of another length, a library file whose upload does
# not match its digest, and a client that never answers a lookup (after
# the coordinator's 30 s) each end their batch with an error DONE; library
# files named like the project's own get an answer; the coordinator goes on
# serving.
#
# Usage: bash test_submit_env.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=submit_env
. "$(dirname "$0")/lib.sh" "$@"
export STRATA_CACHE_DIR="$tmp/cache"
unset VIRTUAL_ENV STRATA_TYPESHED

py=/usr/bin/python3
if [ ! -x "$py" ] || ! "$py" -m venv --help >/dev/null 2>&1; then
    echo "test_submit_env: no $py with venv, skipped"
    echo "0 passed, 0 failed"
    exit 0
fi

lacks() {
    if printf '%s' "$2" | grep -qF -- "$3"; then fail "$1: '$3' in: $2"; else pass; fi
}

"$py" -m venv --without-pip "$tmp/venv" || {
    fail "venv"
    exit 1
}
site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$site/pkg" proj
printf 'def f(a, b):\n    return a\n\nVALUE = 1\n' >"$site/pkg/__init__.py"
printf 'def g():\n    pass\n' >"$site/pkg/sub.py"
cat >proj/app.py <<'EOF'
import os
import json
import socket
import pkg
import notinstalled
from pkg import sub
from collections import OrderDict
os.path.joinx("a")
json.dumps({}, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
socket.AF_INETT
pkg.f(1, 2, 3)
pkg.nope
sub.g(1)
print(pkg.VALUE, OrderDict, notinstalled)
EOF

# the coordinator: no PATH, no python3, no virtual environment, no stubs
addr="ipc://$tmp/coord.sock"
env -i HOME="$tmp" "$strata" coordinator --bind "$addr" --cache-dir "$tmp/ccache" \
    2>"$tmp/coord.log" &
pids+=($!)
wait_for "$tmp/coord.log" "clients on" || fail "the coordinator did not start: $(cat "$tmp/coord.log")"
# and a worker as bare: the scans of stubs travel with their target
env -i HOME="$tmp" "$strata" worker --connect "$addr.workers" --threads 1 2>"$tmp/worker.log" &
pids+=($!)
wait_for "$tmp/worker.log" "working for" || fail "the worker did not connect"

# same NAME ARGS...: check and submit with ARGS agree on stdout and exit status
same() {
    local name=$1
    shift
    submit_same "$name" "$addr" "$@"
}
last_batch() { grep "batch from" "$tmp/coord.log" | tail -1; }

same "the client's environment" --python "$tmp/venv" proj
out=$(cat "$tmp/submit.out")
has "stdlib attribute" "$out" "app.py:8:1: E1101 Module 'os.path' has no 'joinx' member"
has "stdlib call" "$out" "app.py:9:1: E1121 Too many positional arguments"
has "package call" "$out" "app.py:11:1: E1121 Too many positional arguments"
has "package submodule call" "$out" "app.py:13:1: E1121 Too many positional arguments"
has "missing package names the client's interpreter" "$out" \
    "E0401 Unable to import 'notinstalled' (not installed for $tmp/venv"
lacks "library files never reported" "$out" "$site"
has "library contents uploaded" "$(last_batch)" "uploaded"
if last_batch | grep -qE ', [1-9][0-9]* on workers'; then pass; else
    fail "check jobs on the worker: $(last_batch)"
fi
lacks "library contents uploaded (not none)" "$(last_batch)" " 0 uploaded"

same "again" --python "$tmp/venv" proj
has "a second submit uploads no library content" "$(last_batch)" " 0 uploaded, 0 scanned"
# unchanged, the client's library files still what they were (one lookup
# round says so): the whole run comes from the cache, as for strata check
has "again: the whole run from the cache" "$(last_batch)" "whole run from the cache"
# its lookup round runs before the batch holds a run slot and leaves none
# held: more re-submits than the coordinator runs at once all end
for i in 1 2 3 4 5 6; do same "again, $i" --python "$tmp/venv" proj; done
has "again and again: whole from the cache" "$(last_batch)" "whole run from the cache"

# the target travels: another platform and version decide the stubs'
# branches, so the stubs are scanned again for it (their keys hold it)
same "win32 and 3.10" --python "$tmp/venv" --python-platform win32 --python-version 3.10 proj
lacks "win32 and 3.10: the stubs scanned for that target" "$(last_batch)" " 0 scanned"
same "no interpreter: the stubs alone" --no-python proj
lacks "no interpreter: no E0401" "$(cat "$tmp/submit.out")" "E0401"

# an upgraded package: its file is uploaded, the result changes
printf 'def f(a, b, c=0):\n    return a\n\nVALUE = 1\nnope = 2\n' >"$site/pkg/__init__.py"
same "upgraded package" --python "$tmp/venv" proj
has "upgraded: one file uploaded" "$(last_batch)" " 1 uploaded"
lacks "upgraded: not the old whole run" "$(last_batch)" "whole run from the cache"
lacks "upgraded: nope exists now" "$(cat "$tmp/submit.out")" "has no 'nope' member"
lacks "upgraded: f takes three" "$(cat "$tmp/submit.out")" "app.py:11:1: E1121"

# a --python that does not work: exit 2 before anything is sent, as check
n_batches=$(grep -c "batch from" "$tmp/coord.log")
expect "submit with a --python that does not work" 2 submit --coordinator "$addr" \
    --python /bin/false proj
has "--python names it" "$err" "strata submit: --python /bin/false"
if [ "$(grep -c "batch from" "$tmp/coord.log")" -eq "$n_batches" ]; then pass; else
    fail "a batch was sent with a --python that does not work"
fi

# --no-environment: as before
same "--no-environment" --no-environment proj
lacks "--no-environment: no stdlib report" "$(cat "$tmp/submit.out")" "joinx"

# ---- hostile clients ----------------------------------------------------------
if ! "$py" -c 'import zmq, msgpack' 2>/dev/null; then
    echo "skip: $py lacks zmq or msgpack: no hostile clients"
else
    for how in short bad_blob dup_path silent; do
        timeout 90 "$py" - "$addr" "$how" >"$tmp/hostile_$how.out" 2>&1 <<'EOF'
import hashlib, struct, sys, time
import msgpack, zmq

addr, how = sys.argv[1], sys.argv[2]
SUBMIT, NEED, UPLOAD, PROGRESS, DONE, LOOKUP, LIBFILES = 16, 17, 18, 19, 20, 21, 22
src = b"import hostile_pkg\nhostile_pkg.x\n"
lib = b"y = 1\n"
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(addr)

def frame(data):  # a zstd frame of one raw block
    head = struct.pack("<IB", 0xFD2FB528, 0xE0) + struct.pack("<Q", len(data))
    return head + struct.pack("<I", 1 | (len(data) << 3))[:3] + data

def send(t, **f):
    s.send(msgpack.packb(dict([("v", 1), ("t", t)] + list(f.items())), use_bin_type=True))

def recv(secs):
    if not s.poll(int(secs * 1000)):
        return None
    return msgpack.unpackb(s.recv(), raw=False)

send(SUBMIT, files=[["h.py", 0, hashlib.sha256(src).digest(), len(src)]], roots=[],
     args=["h.py"], max_file_bytes=0, env=[3, 12, "linux", None, "hostile " + how])
deadline = time.time() + 80
while time.time() < deadline:
    m = recv(deadline - time.time())
    if m is None:
        break
    if m["t"] == NEED:
        up = []
        for i in m["digests"]:
            data = src if i == 0 else (b"y = 2\n" if how == "bad_blob" else lib)
            up.append([i, frame(data), len(data)])
        send(UPLOAD, blobs=up)
    elif m["t"] == LOOKUP:
        if how == "silent":
            continue
        path = "h.py" if how == "dup_path" else "/site/hostile_pkg.py"
        mods = [[1, 3, True, False, path, 0, len(lib), hashlib.sha256(lib).digest()]
                for _ in m["modules"]]
        if how == "short":
            mods = mods[:-1] if mods else [[0, 3, False, False, None, 0, 0, None]] * 2
        send(LIBFILES, modules=mods, tops=[False] * len(m["tops"]))
    elif m["t"] == DONE:
        print("DONE", m["status"], m.get("error", ""))
        sys.exit(0)
print("no DONE")
EOF
        res=$(cat "$tmp/hostile_$how.out")
        if [ "$how" = dup_path ]; then
            has "a library path that is a project file's: answered" "$res" "DONE"
        else
            has "hostile $how: an error DONE" "$res" "DONE 2"
        fi
    done
    has "an answer of another length" "$(cat "$tmp/hostile_short.out")" \
        "an answer to a library lookup of"
    has "a library blob checked against its digest" "$(cat "$tmp/hostile_bad_blob.out")" \
        "does not match its digest"
    has "a client that never answers" "$(cat "$tmp/hostile_silent.out")" "stopped answering"
    has "silent client: dropped like a stalled upload" "$(cat "$tmp/coord.log")" \
        "no answer to a library lookup for 30 s"
    same "served after the hostile clients" --python "$tmp/venv" proj
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
