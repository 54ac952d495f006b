#!/usr/bin/env bash
# test_remote_cache.sh - end-to-end tests of the team cache tier: `strata
# check --remote-cache URL` against a real nginx speaking Bazel's HTTP
# remote-cache protocol (tests/e2e/nginx.sh).
#
# A team cache may only ever save time: whatever the server does, stdout
# and the exit status are those of a cold run (--no-cache), byte for byte,
# and a broken server costs a warning on stderr naming the remote cache.
# Covers a CI run that uploads, a clone elsewhere that then scans and
# checks nothing, a URL with a path prefix, the keys in pyproject.toml, a
# one-function edit (one scan, one check job), entries damaged on the
# server (garbage, truncated, action entries swapped), a server stopped
# before and during a run, a server answering 500, one that never answers,
# basic auth (none, wrong, right, from a file and from the environment),
# the credentials never printed, and bad option values. How long a broken
# server delayed a run is printed, not asserted (timings belong in bench/).
#
# Every run starts in its clone's directory and checks '.', so that the
# paths printed are the same in every clone; each has a --cache-dir of its
# own, empty unless said otherwise.
#
# Usage: bash test_remote_cache.sh PATH-TO-STRATA REPO-ROOT   (as ctest runs it)
# Ends with "N passed, N failed"; exits non-zero when any failed.
set -u

E2E_NAME=remote_cache
here=$(cd "$(dirname "$0")" && pwd) # lib.sh changes directory
. "$here/lib.sh" "$@"
. "$here/nginx.sh"
unset STRATA_REMOTE_CACHE_AUTH STRATA_CACHE_DIR

if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/bin/python3 ]; then
    echo "skip: the remote cache tests need /usr/sbin/nginx and /usr/bin/python3"
    exit 0
fi

# --- helpers -------------------------------------------------------------------

# run_in DIR ARGS...: `strata check ARGS .` from inside DIR, killed after
# 60 s; sets $rc, $out, $err and $secs (wall time), keeps stdout in
# $tmp/last.out and appends stdout and stderr to $tmp/all.log.
run_in() {
    local dir=$1 t0 t1
    shift
    t0=$(date +%s.%N)
    (cd "$dir" && exec timeout 60 "$strata" check "$@" .) >"$tmp/last.out" 2>"$tmp/last.err"
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    out=$(cat "$tmp/last.out")
    err=$(cat "$tmp/last.err")
    cat "$tmp/last.out" "$tmp/last.err" >>"$tmp/all.log"
}

# newcache: sets $cache to a local cache directory no run has used.
ncache=0
newcache() {
    ncache=$((ncache + 1))
    cache=$tmp/caches/$ncache
}

# clone NAME [FROM]: a fresh copy of the project (or of FROM) at $tmp/NAME.
clone() {
    rm -rf "${tmp:?}/$1"
    cp -r "$tmp/${2:-proj}" "$tmp/$1"
}

# same_as NAME REF_FILE REF_RC: the last run printed REF_FILE's bytes on
# stdout and exited REF_RC (and did not crash or time out).
same_as() {
    if [ "$rc" -ge 124 ]; then
        fail "$1: exit $rc (crash or timeout); stderr: $err"
        return
    fi
    if cmp -s "$2" "$tmp/last.out"; then pass; else
        fail "$1: stdout differs from the reference"
        diff "$2" "$tmp/last.out" | head -10 >&2
    fi
    if [ "$rc" -eq "$3" ]; then pass; else fail "$1: exit $rc, want $3 (stderr: $err)"; fi
}

# quiet NAME: the last run's stderr says nothing of the remote cache
# outside --explain's lines.
quiet() {
    local said
    said=$(printf '%s\n' "$err" | grep -v '^explain: ' | grep -i 'remote cache')
    if [ -z "$said" ]; then pass; else fail "$1: unexpected remote cache message: $said"; fi
}

# warned NAME: the last run's stderr has a warning about the remote cache.
warned() {
    if printf '%s' "$err" | grep -qi 'remote cache'; then pass; else
        fail "$1: no 'remote cache' warning on stderr: $err"
    fi
}

# counts: from the last run's --explain, sets $scans_ran and $checks_ran
# ("explain: N scans ran, N cached; N check jobs ran, ...") and $hits,
# $misses, $errors, $uploaded ("explain: remote cache: H hits, M misses,
# E errors ...; U uploaded"); each is empty when its line is missing.
counts() {
    local line
    line=$(printf '%s\n' "$err" | grep -m1 '^explain: [0-9]* scans ran, ')
    scans_ran=$(printf '%s' "$line" | sed -n 's/^explain: \([0-9]*\) scans ran.*/\1/p')
    checks_ran=$(printf '%s' "$line" | sed -n 's/.*; \([0-9]*\) check jobs ran.*/\1/p')
    line=$(printf '%s\n' "$err" | grep -m1 '^explain: remote cache: ')
    hits=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) hits\{0,1\},.*/\1/p')
    misses=$(printf '%s' "$line" | sed -n 's/.*, \([0-9]*\) miss\(es\)\{0,1\},.*/\1/p')
    errors=$(printf '%s' "$line" | sed -n 's/.*, \([0-9]*\) errors\{0,1\}\([^a-z].*\)\{0,1\}$/\1/p')
    uploaded=$(printf '%s' "$line" | sed -n 's/.*; \([0-9]*\) uploaded.*/\1/p')
}

# ran NAME SCANS CHECKS: the last --explain run ran that many scans and
# check jobs.
ran() {
    counts
    if [ "$scans_ran" = "$2" ] && [ "$checks_ran" = "$3" ]; then pass; else
        fail "$1: ${scans_ran:-?} scans ran and ${checks_ran:-?} check jobs ran, want $2 and $3:" \
            "$(printf '%s\n' "$err" | grep '^explain: [0-9]* scans ran\|^explain: remote')"
    fi
}

# delay NAME BASE: prints how long the last run took beyond BASE seconds.
delay() {
    awk -v n="$1" -v s="$secs" -v b="$2" 'BEGIN {
        printf "remote_cache: %s added %.2f s (%.2f s against %.2f s without a remote)\n",
            n, s - b, s, b }'
}

# files_under DIR: how many files are under DIR (0 when it is missing).
files_under() {
    find "$1" -type f 2>/dev/null | wc -l
}

# --- a small project -------------------------------------------------------------

# A package of 11 modules importing each other, with an unused import
# (F401) and an import of a name its module lacks (E0611).
mkdir -p proj/pkg
cd proj/pkg || exit 2
cat >__init__.py <<'EOF'
"""pkg: a small package for the remote cache tests."""
EOF
cat >core.py <<'EOF'
VERSION = "1.0"


def helper(x):
    return x * 2


class Base:
    def run(self):
        return helper(1)
EOF
cat >a.py <<'EOF'
import os
from pkg.core import helper


def fa(x):
    return helper(x) + 1
EOF
cat >b.py <<'EOF'
from pkg.a import fa
from pkg.a import missing_name


def fb(x):
    return fa(x) + missing_name
EOF
cat >c.py <<'EOF'
from pkg.core import Base


class C(Base):
    def run(self):
        return super().run() + 1
EOF
cat >d.py <<'EOF'
from pkg import a, core


def fd(x):
    return a.fa(x) * core.helper(x)
EOF
cat >e.py <<'EOF'
from pkg.core import helper
from pkg.d import fd


def fe(x):
    total = helper(x)
    return total + fd(x)
EOF
cat >f.py <<'EOF'
from pkg.e import fe
from pkg.c import C


def ff():
    return fe(2) + C().run()
EOF
cat >g.py <<'EOF'
import json

from pkg.f import ff


def fg():
    return json.dumps({"ff": ff()})
EOF
cat >h.py <<'EOF'
from pkg.g import fg
from pkg.core import VERSION


def fh():
    return VERSION + fg()
EOF
cat >util.py <<'EOF'
from pkg import h


def main():
    print(h.fh())


if __name__ == "__main__":
    main()
EOF
cd "$tmp" || exit 2

clone ref
run_in ref --no-cache
cp "$tmp/last.out" "$tmp/ref.out"
ref_rc=$rc
if [ "$rc" -eq 1 ]; then pass; else fail "reference run: exit $rc, want 1 (stderr: $err)"; fi
has "reference has the F401" "$out" "./pkg/a.py:1:1: F401"
has "reference has the E0611" "$out" "./pkg/b.py:2:1: E0611"
clone local
newcache
run_in local --cache-dir "$cache" # fills the shared cache of library scans
same_as "no remote, empty cache" "$tmp/ref.out" "$ref_rc"
newcache
run_in local --cache-dir "$cache"
same_as "no remote, empty cache, again" "$tmp/ref.out" "$ref_rc"
base_secs=$secs # an empty local cache, no remote: the base of the delays printed

if nginx_start team ok; then pass; else
    fail "nginx did not start"
    printf '%d passed, %d failed\n' "$passed" "$failed"
    exit 1
fi
url=$nginx_url

# --- a. a CI run uploads -------------------------------------------------------------

clone a
newcache
run_in a --cache-dir "$cache" --remote-cache "$url" --remote-cache-upload --explain
same_as "a: CI upload run" "$tmp/ref.out" "$ref_rc"
cp "$tmp/last.out" "$tmp/a.out"
quiet "a: CI upload run"
counts
if [ "${uploaded:-0}" -gt 0 ]; then pass; else
    fail "a: explain does not say entries were uploaded: $(printf '%s\n' "$err" | grep remote)"
fi
if [ "${errors:-x}" = 0 ]; then pass; else fail "a: ${errors:-?} remote errors: $err"; fi
n_ac=$(files_under "$nginx_root/ac")
n_cas=$(files_under "$nginx_root/cas")
if [ "$n_ac" -gt 0 ] && [ "$n_cas" -gt 0 ]; then pass; else
    fail "a: after the upload the server has $n_ac ac/ and $n_cas cas/ files"
fi
bad_names=$(find "$nginx_root" -type f | grep -Ev '/(ac|cas)/[0-9a-f]{64}$' | head -3)
if [ -z "$bad_names" ]; then pass; else fail "a: files not named ac|cas/<64 hex>: $bad_names"; fi
# each cas/ entry is named by its content's SHA-256
bad_digest=
while read -r f; do
    d=$(sha256sum "$f" | cut -d' ' -f1)
    if [ "$d" != "$(basename "$f")" ]; then bad_digest=$f; break; fi
done < <(find "$nginx_root/cas" -type f 2>/dev/null)
if [ -z "$bad_digest" ]; then pass; else fail "a: $bad_digest is not its content's sha256"; fi
echo "remote_cache: the CI run uploaded $n_ac ac/ and $n_cas cas/ entries"

# The same upload under a path prefix lands under it.
newcache
run_in a --cache-dir "$cache" --remote-cache "$url/team" --remote-cache-upload
same_as "a: upload under /team" "$tmp/ref.out" "$ref_rc"
if [ "$(files_under "$nginx_root/team/ac")" -gt 0 ] &&
    [ "$(files_under "$nginx_root/team/cas")" -gt 0 ]; then pass; else
    fail "a: nothing under team/ac and team/cas after an upload to $url/team ($err)"
fi

# --- b. another clone gets everything from the server --------------------------------

clone b
newcache
run_in b --cache-dir "$cache" --remote-cache "$url" --explain
same_as "b: clone from the server" "$tmp/a.out" "$ref_rc"
ran "b: clone from the server" 0 0
if [ "${hits:-0}" -gt 0 ] && [ "${errors:-x}" = 0 ]; then pass; else
    fail "b: remote cache line says ${hits:-?} hits, ${misses:-?} misses, ${errors:-?} errors: $err"
fi
quiet "b: clone from the server"
if [ "${uploaded:-0}" -eq 0 ]; then pass; else fail "b: $uploaded uploaded without --remote-cache-upload"; fi

# The second run of that clone: its own cache now, the same output.
run_in b --cache-dir "$cache" --remote-cache "$url"
same_as "b: second run" "$tmp/a.out" "$ref_rc"

# A machine that never ran strata: no shared cache of library scans either.
newcache
STRATA_SHARED_CACHE_DIR=$tmp/shared-fresh run_in b --cache-dir "$cache" --remote-cache "$url" --explain
same_as "b: fresh machine" "$tmp/a.out" "$ref_rc"
ran "b: fresh machine (empty shared cache)" 0 0

# Through the path prefix.
newcache
run_in b --cache-dir "$cache" --remote-cache "$url/team/" --explain
same_as "b: under /team/" "$tmp/a.out" "$ref_rc"
ran "b: under /team/" 0 0

# The keys in pyproject.toml.
clone conf
cat >conf/pyproject.toml <<EOF
[tool.strata]
remote-cache = "$url"
remote-cache-timeout = 2
EOF
newcache
run_in conf --cache-dir "$cache" --explain
same_as "config: remote-cache in pyproject.toml" "$tmp/ref.out" "$ref_rc"
counts
if [ "${hits:-0}" -gt 0 ]; then pass; else
    fail "config: no remote hits with remote-cache in pyproject.toml: $err"
fi
printf 'remote-cache-upload = true\n' >>conf/pyproject.toml
newcache
n_before=$(files_under "$nginx_root")
printf '\ndef added_by_conf():\n    return 3\n' >>conf/pkg/util.py
run_in conf --cache-dir "$cache" --explain
counts
if [ "${uploaded:-0}" -gt 0 ] && [ "$(files_under "$nginx_root")" -gt "$n_before" ]; then pass; else
    fail "config: remote-cache-upload = true uploaded nothing: $err"
fi

# --- c. a one-function edit -----------------------------------------------------------

clone c
sed -i 's/    return total + fd(x)/    return total + fd(x) + undefined_in_body/' c/pkg/e.py
grep -q undefined_in_body c/pkg/e.py || fail "c: the edit did not apply"
run_in c --no-cache
cp "$tmp/last.out" "$tmp/c-ref.out"
c_rc=$rc
if cmp -s "$tmp/ref.out" "$tmp/c-ref.out"; then fail "c: the edit changed no diagnostic"; else pass; fi
newcache
run_in c --cache-dir "$cache" --remote-cache "$url" --explain
same_as "c: one-function edit" "$tmp/c-ref.out" "$c_rc"
ran "c: one-function edit" 1 1

# --- d. entries damaged on the server -------------------------------------------------

cp -a "$nginx_root" "$tmp/good-data"
restore_data() {
    rm -rf "$nginx_root"
    cp -a "$tmp/good-data" "$nginx_root"
}
cas_files() { find "$nginx_root/cas" -type f 2>/dev/null | sort; }
damage_garbage() {
    local f
    cas_files | while read -r f; do head -c 200 /dev/urandom >"$f"; done
}
damage_truncate() {
    local f
    cas_files | while read -r f; do truncate -s $(($(stat -c %s "$f") / 2)) "$f"; done
}
# every ac/ entry gets the next one's content (a swap when there are two)
damage_rotate_ac() {
    local files f prev=
    mapfile -t files < <(find "$nginx_root/ac" -type f | sort)
    [ "${#files[@]}" -ge 2 ] || return 0
    cp "${files[0]}" "$tmp/first-ac"
    for f in "${files[@]}"; do
        if [ -n "$prev" ]; then cp "$f" "$prev"; fi
        prev=$f
    done
    cp "$tmp/first-ac" "$prev"
}
if [ -n "$(cas_files)" ] && [ "$(files_under "$nginx_root/ac")" -ge 2 ]; then pass; else
    fail "d: not enough entries on the server to damage"
fi
for damage in garbage truncate rotate_ac; do
    restore_data
    "damage_$damage"
    newcache
    run_in b --cache-dir "$cache" --remote-cache "$url" --explain
    same_as "d: $damage" "$tmp/ref.out" "$ref_rc"
    warned "d: $damage"
    # an upload run over the damage, then a clean clone: still the same
    newcache
    run_in b --cache-dir "$cache" --remote-cache "$url" --remote-cache-upload
    same_as "d: $damage, upload run" "$tmp/ref.out" "$ref_rc"
    newcache
    run_in b --cache-dir "$cache" --remote-cache "$url"
    same_as "d: $damage, after the upload run" "$tmp/ref.out" "$ref_rc"
done
restore_data

# --- e. the server stops ---------------------------------------------------------------

# Before the run: connections refused.
nginx_stop team
newcache
run_in b --cache-dir "$cache" --remote-cache "$url" --remote-cache-upload
same_as "e: server stopped (refused)" "$tmp/ref.out" "$ref_rc"
warned "e: server stopped (refused)"
delay "refused connections" "$base_secs"

# During the run: a project of 300 modules, so that the run lasts a moment.
mkdir -p big
for p in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "big/bp$p"
    printf '' >"big/bp$p/__init__.py"
    printf 'import os\n\n\ndef f0(x):\n    return x\n' >"big/bp$p/m0.py"
    for m in $(seq 1 29); do
        printf 'from bp%d.m%d import f%d\n\n\ndef f%d(x):\n    y = f%d(x) + %d\n    return y * 2\n\n\nclass K%d:\n    def run(self):\n        return f%d(1)\n' \
            "$p" $((m - 1)) $((m - 1)) "$m" $((m - 1)) "$m" "$m" "$m" >"big/bp$p/m$m.py"
    done
done
printf 'from bp1.m3 import missing_too\n' >big/bp2/m7.py
clone big-ref big
run_in big-ref --no-cache
cp "$tmp/last.out" "$tmp/big-ref.out"
big_rc=$rc
if nginx_start team ok; then pass; else fail "e: nginx did not restart"; fi
url=$nginx_url
clone big-a big
newcache
run_in big-a --cache-dir "$cache" --remote-cache "$url" --remote-cache-upload
same_as "e: big project upload" "$tmp/big-ref.out" "$big_rc"
clone big-b big
newcache
run_in big-b --cache-dir "$cache" --remote-cache "$url"
same_as "e: big project from the server" "$tmp/big-ref.out" "$big_rc"
half=$(awk -v s="$secs" 'BEGIN { printf "%.2f", s / 2 }')
newcache
t0=$(date +%s.%N)
(cd big-b && exec timeout 60 "$strata" check --cache-dir "$cache" --remote-cache "$url" \
    --remote-cache-upload .) >"$tmp/last.out" 2>"$tmp/last.err" &
bg=$!
sleep "$half"
nginx_stop team
wait "$bg"
rc=$?
t1=$(date +%s.%N)
err=$(cat "$tmp/last.err")
cat "$tmp/last.out" "$tmp/last.err" >>"$tmp/all.log"
same_as "e: server stopped during the run" "$tmp/big-ref.out" "$big_rc"
awk -v a="$t0" -v b="$t1" -v h="$half" \
    'BEGIN { printf "remote_cache: nginx stopped %.2f s into a run that took %.2f s\n", h, b - a }'

# --- f. a 500 server, a server that never answers, basic auth ---------------------------

if nginx_start f500 fail500; then pass; else fail "f: nginx (fail500) did not start"; fi
newcache
run_in b --cache-dir "$cache" --remote-cache "$nginx_url"
same_as "f: 500 server" "$tmp/ref.out" "$ref_rc"
warned "f: 500 server"
delay "500 server" "$base_secs"
newcache
run_in b --cache-dir "$cache" --remote-cache "$nginx_url" --remote-cache-upload
same_as "f: 500 server, upload" "$tmp/ref.out" "$ref_rc"
warned "f: 500 server, upload"
delay "500 server (upload)" "$base_secs"
nginx_stop f500

if hang_start; then pass; else fail "f: the hanging server did not start"; fi
hang_url=http://127.0.0.1:$hang_port
newcache
run_in b --cache-dir "$cache" --remote-cache "$hang_url"
same_as "f: hanging server" "$tmp/ref.out" "$ref_rc"
warned "f: hanging server"
delay "hang server" "$base_secs"
newcache
run_in b --cache-dir "$cache" --remote-cache "$hang_url" --remote-cache-upload
same_as "f: hanging server, upload" "$tmp/ref.out" "$ref_rc"
warned "f: hanging server, upload"
delay "hang server (upload)" "$base_secs"
newcache
run_in b --cache-dir "$cache" --remote-cache "$hang_url" --remote-cache-timeout 1
same_as "f: hanging server, timeout 1" "$tmp/ref.out" "$ref_rc"
delay "hang server (--remote-cache-timeout 1)" "$base_secs"

if nginx_start sec auth; then pass; else fail "f: nginx (auth) did not start"; fi
auth_url=$nginx_url
printf 'Basic Y2k6c2VjcmV0\n' >"$tmp/auth-right" # ci:secret
printf 'Basic Y2k6d3Jvbmc=\n' >"$tmp/auth-wrong" # ci:wrong
newcache
run_in b --cache-dir "$cache" --remote-cache "$auth_url" --remote-cache-upload
same_as "f: no credentials" "$tmp/ref.out" "$ref_rc"
warned "f: no credentials"
delay "no credentials (401)" "$base_secs"
newcache
run_in b --cache-dir "$cache" --remote-cache "$auth_url" --remote-cache-auth-file "$tmp/auth-wrong" \
    --remote-cache-upload
same_as "f: wrong password" "$tmp/ref.out" "$ref_rc"
warned "f: wrong password"
delay "wrong password (401)" "$base_secs"
if [ "$(files_under "$nginx_root")" -eq 0 ]; then pass; else fail "f: files landed without the password"; fi
newcache
run_in a --cache-dir "$cache" --remote-cache "$auth_url" --remote-cache-auth-file "$tmp/auth-right" \
    --remote-cache-upload --explain
same_as "f: right password, upload" "$tmp/ref.out" "$ref_rc"
quiet "f: right password, upload"
delay "right password (upload)" "$base_secs"
if [ "$(files_under "$nginx_root/ac")" -gt 0 ] && [ "$(files_under "$nginx_root/cas")" -gt 0 ]; then
    pass
else
    fail "f: with the right password nothing landed on the server ($err)"
fi
newcache
STRATA_REMOTE_CACHE_AUTH='Basic Y2k6c2VjcmV0' run_in b --cache-dir "$cache" --remote-cache "$auth_url" \
    --explain
same_as "f: right password from the environment" "$tmp/ref.out" "$ref_rc"
ran "f: right password from the environment" 0 0
newcache
STRATA_REMOTE_CACHE_AUTH='Basic Y2k6d3Jvbmc=' run_in b --cache-dir "$cache" --remote-cache "$auth_url"
same_as "f: wrong password from the environment" "$tmp/ref.out" "$ref_rc"
warned "f: wrong password from the environment"
nginx_stop sec

# --- f2. reads open, writes with CI's password (what the docs advise) ----------------------

if nginx_start ro readonly; then pass; else fail "f2: nginx (readonly) did not start"; fi
ro_url=$nginx_url
newcache
run_in a --cache-dir "$cache" --remote-cache "$ro_url" --remote-cache-upload --explain
same_as "f2: upload without the password" "$tmp/ref.out" "$ref_rc"
if printf '%s' "$err" | grep -q 'uploads refused'; then pass; else
    fail "f2: no 'uploads refused' warning: $err"
fi
if [ "$(files_under "$nginx_root")" -eq 0 ]; then pass; else fail "f2: files landed without the password"; fi
newcache
run_in a --cache-dir "$cache" --remote-cache "$ro_url" --remote-cache-upload \
    --remote-cache-auth-file "$tmp/auth-right"
same_as "f2: upload with the password" "$tmp/ref.out" "$ref_rc"
quiet "f2: upload with the password"
newcache
STRATA_SHARED_CACHE_DIR=$tmp/shared-ro run_in b --cache-dir "$cache" --remote-cache "$ro_url" --explain
same_as "f2: a reader without a password" "$tmp/ref.out" "$ref_rc"
ran "f2: a reader without a password" 0 0
nginx_stop ro

# --- f3. TLS: the server's certificate is checked ----------------------------------------

if nginx_start tls tls; then pass; else fail "f3: nginx (tls) did not start"; fi
tls_url=$nginx_url
newcache
run_in a --cache-dir "$cache" --remote-cache "$tls_url" --remote-cache-upload
same_as "f3: a certificate no trusted CA signed" "$tmp/ref.out" "$ref_rc"
warned "f3: a certificate no trusted CA signed"
if [ "$(files_under "$nginx_root")" -eq 0 ]; then pass; else fail "f3: uploaded to an untrusted server"; fi
newcache
run_in a --cache-dir "$cache" --remote-cache "$tls_url" --remote-cache-ca "$nginx_ca" \
    --remote-cache-upload
same_as "f3: upload over TLS" "$tmp/ref.out" "$ref_rc"
quiet "f3: upload over TLS"
newcache
STRATA_SHARED_CACHE_DIR=$tmp/shared-tls run_in b --cache-dir "$cache" --remote-cache "$tls_url" \
    --remote-cache-ca "$nginx_ca" --explain
same_as "f3: a clone over TLS" "$tmp/ref.out" "$ref_rc"
ran "f3: a clone over TLS" 0 0
newcache
run_in b --cache-dir "$cache" --remote-cache "$tls_url" --remote-cache-ca "$tmp/no-such-ca.pem"
if [ "$rc" -eq 2 ] && printf '%s' "$err" | grep -q 'remote-cache-ca'; then pass; else
    fail "f3: a missing CA file: exit $rc, $err"
fi
nginx_stop tls

# --- g. the credentials are never printed ------------------------------------------------

for word in secret Y2k6c2VjcmV0 Y2k6d3Jvbmc; do
    if grep -qF -- "$word" "$tmp/all.log"; then
        fail "g: '$word' printed: $(grep -F -- "$word" "$tmp/all.log" | head -3)"
    else
        pass
    fi
done

# --- h. bad option values -----------------------------------------------------------------

bad() { # name, args...
    local name=$1
    shift
    (cd b && exec timeout 60 "$strata" check --cache-dir "$tmp/caches/bad" "$@") \
        >"$tmp/last.out" 2>"$tmp/last.err"
    rc=$?
    out=$(cat "$tmp/last.out")
    err=$(cat "$tmp/last.err")
    if [ "$rc" -eq 2 ]; then pass; else fail "h: $name: exit $rc, want 2 (stderr: $err)"; fi
    has "h: $name: message" "$err" "remote-cache"
    if [ -s "$tmp/last.out" ]; then fail "h: $name: printed on stdout: $out"; else pass; fi
}
bad "ftp URL" --remote-cache ftp://x
bad "empty URL" --remote-cache ''
bad "negative timeout" --remote-cache "$url" --remote-cache-timeout -1
bad "timeout not a number" --remote-cache "$url" --remote-cache-timeout abc
bad "URL missing" --remote-cache

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
