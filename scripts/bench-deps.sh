#!/usr/bin/env bash
# bench-deps.sh - installs the reference tools the benches compare against.
#
# The benches measure strata against pyflakes (Debian's pyflakes3, the
# accuracy reference), pylint (the reference for the cross-module codes
# E0611, E1101, E1120, E1121, E1123: bench/pylint_compare.py), hyperfine
# (wall-clock timing), ruff's WebAssembly build from npm (the speed
# reference) and pyright from npm (the reference for checks against the
# standard library and installed packages: bench/precision_compare.py,
# bench/inject_faults.py --pyright, bench/twisted_bench.py). Twisted
# (python3-twisted) is the corpus of the environment speed bench; mypy and
# python3-typeshed give the Debian copies of typeshed's stubs (stdlib stubs
# inside mypy, third-party stub packages in dist-packages) that the checks
# of installed packages meet. Debian packages come from apt only when
# missing; the npm packages are installed from the lockfile committed in
# bench/node/, so npm checks their integrity hashes, into .deps/node/
# (outside the tracked tree). A stamp holding the lockfile's digest makes a
# second run a no-op that takes milliseconds.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
lockdir="$top/bench/node"
nodedir="$top/.deps/node"

pkgs=(pyflakes3 pylint hyperfine python3 python3-twisted mypy python3-typeshed)
if ! command -v npm >/dev/null 2>&1; then pkgs+=(nodejs npm); fi
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bench-deps: installing ${missing[*]}"
    sudo_cmd=
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "bench-deps: not root and no sudo; install: ${missing[*]}" >&2
            exit 2
        fi
        sudo_cmd=sudo
    fi
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

# ruff-wasm and pyright: `npm ci` installs exactly what the lockfile names and
# fails on an integrity mismatch. Install scripts are not run: neither package
# needs one.
want=$(sha256sum "$lockdir/package-lock.json" | cut -d' ' -f1)
stamp="$nodedir/.strata-lock-sha256"
pkg="$nodedir/node_modules/@astral-sh/ruff-wasm-nodejs/package.json"
pyright="$nodedir/node_modules/.bin/pyright"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$pkg" ] || [ ! -x "$pyright" ]; then
    echo "bench-deps: installing bench/node/package-lock.json into .deps/node"
    mkdir -p "$nodedir"
    rm -f "$stamp"
    cp "$lockdir/package.json" "$lockdir/package-lock.json" "$nodedir/"
    npm ci --prefix "$nodedir" --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi
