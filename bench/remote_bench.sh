#!/usr/bin/env bash
# remote_bench.sh - what a team cache saves: the stdlib corpus checked cold
# against the same corpus in a fresh clone filled from a loopback nginx
# speaking Bazel's HTTP remote-cache protocol (tests/e2e/nginx.sh).
#
# The corpus (bench/stdlib_files.sh) is copied into two directories, A (the
# CI machine) and B (a developer's clone), and every run starts in its
# directory and checks '.'. Each configuration runs RUNS times, alternated
# with the others so that a shared machine's noise spreads over all; every
# run but warm has an empty local cache and an empty shared cache of
# library scans (a machine that never ran strata):
#   cold      A, --no-cache: the reference
#   upload    A, --remote-cache-upload to an emptied server: the CI run
#   clone     B, everything from the server, on a machine new to strata:
#             it asks the interpreter about itself (half a second through
#             a pyenv shim, a tenth of that for /usr/bin/python3)
#   known     the same on a machine whose user ran strata before: the
#             interpreter's answer is in the user's shared cache, nothing
#             else is (bar: cold/known >= 10)
#   warm      B again right after a clone run, its caches kept, no remote:
#             the floor a clone run can reach
#   edit      B', B with one function body changed, from the server that
#             holds A's entries: one scan and one check job run
# Prints medians and minimums, the ratios, whether the outputs equal the
# cold ones, and the --explain counts of one run of each. Bounded: each
# run is killed after 120 s and no new round starts after 4 minutes.
#
# Usage: bash bench/remote_bench.sh PATH-TO-STRATA [RUNS]   (default 5)
set -uo pipefail

strata=${1:?usage: remote_bench.sh PATH-TO-STRATA [RUNS]}
runs=${2:-5}
strata=$(cd "$(dirname "$strata")" && pwd)/$(basename "$strata")
here=$(cd "$(dirname "$0")" && pwd)
root=/usr/lib/python3.11
if [ ! -x "$strata" ] || [ ! -d "$root" ] || [ ! -x /usr/sbin/nginx ]; then
    echo "remote_bench: needs $strata, $root and /usr/sbin/nginx" >&2
    exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/remote_bench.XXXXXX") || exit 2
pids=()
. "$here/../tests/e2e/nginx.sh"
finish() {
    local p
    nginx_stop bench
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap finish EXIT
unset STRATA_REMOTE_CACHE_AUTH STRATA_CACHE_DIR

bash "$here/stdlib_files.sh" "$root" 2>/dev/null | while read -r f; do
    rel=${f#"$root"/}
    mkdir -p "$tmp/A/$(dirname "$rel")"
    cp -p "$f" "$tmp/A/$rel"
done
cp -r "$tmp/A" "$tmp/B"
cp -r "$tmp/A" "$tmp/B2"
# a body edit: a new local in textwrap.dedent, its interface unchanged
sed -i '0,/^def dedent(text):$/s//def dedent(text):\n    _bench_edit = 1/' "$tmp/B2/textwrap.py"
if ! grep -q _bench_edit "$tmp/B2/textwrap.py"; then
    echo "remote_bench: could not edit textwrap.dedent" >&2
    exit 2
fi
nfiles=$(cd "$tmp/A" && find . -name '*.py' | wc -l)
nginx_start bench ok || exit 2
url=$nginx_url

names=(cold upload clone known warm edit)
declare -A dir=([cold]=A [upload]=A [clone]=B [known]=B [warm]=B [edit]=B2)
declare -A opts=(
    [cold]="--no-cache"
    [upload]="--remote-cache $url --remote-cache-upload"
    [clone]="--remote-cache $url"
    [known]="--remote-cache $url"
    [warm]=""
    [edit]="--remote-cache $url"
)
declare -A times

# one NAME [ARGS...]: runs NAME's configuration once with empty local
# caches (warm: the caches the run before left); prints its seconds;
# stdout in $tmp/NAME.out, stderr in .err; a run that exits 2 or more is
# noted in $tmp/failed.
one() {
    local name=$1 t0 t1 rc
    shift
    if [ "$name" != warm ]; then rm -rf "$tmp/shared-run" "$tmp/cache-run"; fi
    if [ "$name" = known ]; then cp -r "$tmp/shared-seed" "$tmp/shared-run"; fi
    if [ "$name" = upload ]; then rm -rf "${nginx_root:?}"/*; fi
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    (cd "$tmp/${dir[$name]}" &&
        STRATA_SHARED_CACHE_DIR=$tmp/shared-run exec timeout 120 "$strata" check \
            --cache-dir "$tmp/cache-run" ${opts[$name]} "$@" .) >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    t1=$(date +%s.%N)
    if [ "$rc" -ge 2 ]; then
        printf '%s exited %d: %s\n' "$name" "$rc" "$(head -c 300 "$tmp/$name.err")" >>"$tmp/failed"
    fi
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# A user's shared cache that holds only the interpreter's answer.
(cd "$tmp/B" && STRATA_SHARED_CACHE_DIR=$tmp/shared-seed "$strata" env \
    --cache-dir "$tmp/seed-cache" >/dev/null 2>&1)
# The server holds A's entries before the first clone and edit runs.
one upload >/dev/null
start=$SECONDS
done_runs=0
for ((r = 0; r < runs; r++)); do
    if [ $((SECONDS - start)) -gt 240 ]; then
        echo "remote_bench: 4 minutes gone, stopping after $r rounds" >&2
        break
    fi
    # upload last: it empties the server before it fills it again
    for name in cold clone known warm edit upload; do
        times[$name]+="$(one "$name") "
    done
    done_runs=$((done_runs + 1))
done
[ "$done_runs" -gt 0 ] || exit 2

stat_of() { # "t1 t2 ..." -> "median min"
    # shellcheck disable=SC2086 # split on purpose
    printf '%s\n' $1 | sort -g | awk '{ v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              printf "%.3f %.3f", m, v[1] }'
}
declare -A med
echo "remote_bench: $nfiles files of $root, $done_runs runs each, nginx on $url"
printf '%-8s %9s %9s  %s\n' config median min \
    "command (in the clone; empty shared cache but for warm)"
for name in "${names[@]}"; do
    read -r m lo <<<"$(stat_of "${times[$name]}")"
    med[$name]=$m
    cache=EMPTY
    if [ "$name" = warm ]; then cache=CLONE-RUN-CACHE; fi
    printf '%-8s %8ss %8ss  strata check --cache-dir %s %s .\n' "$name" "$m" "$lo" "$cache" \
        "${opts[$name]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "inf" }'; }
echo "cold/clone: $(ratio "${med[cold]}" "${med[clone]}")x (a machine new to strata)"
echo "cold/known: $(ratio "${med[cold]}" "${med[known]}")x (bar >= 10; the interpreter's answer known)"
echo "cold/warm:  $(ratio "${med[cold]}" "${med[warm]}")x (the local tiers' own ratio)"
echo "cold/edit:  $(ratio "${med[cold]}" "${med[edit]}")x"
echo "upload/cold: $(ratio "${med[upload]}" "${med[cold]}")x (what uploading adds to a CI run)"

# Sanity: outputs equal the cold ones; one --explain run of each.
one upload --explain >/dev/null
one clone --explain >/dev/null
one edit --explain >/dev/null
cp "$tmp/edit.out" "$tmp/edit-remote.out"
(cd "$tmp/B2" && exec timeout 120 "$strata" check --no-cache .) >"$tmp/edit-cold.out" 2>/dev/null
one cold >/dev/null
same() { if cmp -s "$1" "$2"; then echo yes; else echo NO; fi; }
echo "clone output = cold output: $(same "$tmp/cold.out" "$tmp/clone.out")"
echo "edit output = its cold output: $(same "$tmp/edit-cold.out" "$tmp/edit-remote.out")"
for name in upload clone edit; do
    grep -h '^explain: [0-9]* scans ran\|^explain: remote cache' "$tmp/$name.err" |
        sed "s/^/$name: /"
    grep -h '^strata: warning' "$tmp/$name.err" | head -3 | sed "s/^/$name: /"
done
if [ -s "$tmp/failed" ]; then
    echo "remote_bench: $(wc -l <"$tmp/failed") runs failed, the times above mean nothing:"
    sort -u "$tmp/failed" | head -5
    exit 1
fi
