#!/usr/bin/env bash
# bootstrap.sh - installs what strata needs on Debian 12, idempotently.
#
# Debian packages come from apt when one is missing; the tree-sitter Python
# and TOML grammars and typeshed's standard-library stubs come from npm
# (pinned versions, integrity hashes checked against the ones recorded in
# scripts/deps.lock) and are unpacked in .deps/, outside the tracked tree;
# the tests' npm validators are installed from tests/node's lockfile.
# Runs in well under a second when everything is there.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/.deps"
. "$top/scripts/deps.lock"

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then echo sudo; else
            echo "bootstrap: missing packages and not root; install: $*" >&2
            exit 2
        fi
    fi
}

# Debian packages: the build, the libraries, and the reference tools that the
# comparison tests and benches run against. libclang-rt-14-dev is clang's
# runtimes (libFuzzer, ASan) for `make fuzz`. python3-zmq and python3-msgpack
# are for the socket fuzzer (tests/e2e/sockfuzz.py), which speaks the wire
# protocol to live daemons. libjansson-dev and libxml2-dev write the report's
# JSON and JUnit XML; python3-junitparser reads that XML back in the output
# format tests. libgit2-dev gives the walk git's own ignore rules
# (.gitignore, .git/info/exclude, global excludes); git and pre-commit run the
# pre-commit hook's end-to-end test (tests/e2e/test_precommit.sh).
# libcurl4-openssl-dev, libprotobuf-c-dev and protobuf-c-compiler are the
# team cache's HTTP client and its REAPI messages; nginx (with WebDAV) is
# the cache server its end-to-end test and bench run against.
# libmicrohttpd-dev serves the daemons' /metrics, /healthz and /readyz;
# prometheus (promtool and the server) checks and scrapes those pages in
# their end-to-end test (tests/e2e/test_metrics.sh). systemd gives
# systemd-analyze, which checks the units of deploy/systemd/, and strace
# the syscalls their seccomp filter must allow (tests/e2e/test_deploy.sh).
# podman (with runc, see docker/containers.conf) builds and runs the image
# of docker/ in tests/e2e/test_container.sh, mmdebstrap makes its debian:12
# base from the Debian mirror when no registry serves one, and python3-yaml
# reads docker/compose.yml for docker/compose-run.py. neovim (0.7.2) is a
# real LSP client: tests/e2e/test_lsp_clients.sh and bench/lsp_bench.py
# drive `strata lsp` (and pyright's server, for comparison) through it,
# headless.
pkgs=(build-essential pkg-config cmake ninja-build clang clang-format libclang-rt-14-dev
      libtree-sitter-dev libzmq3-dev libmsgpack-dev libzstd-dev libhwloc-dev
      libxxhash-dev libssl-dev libsqlite3-dev
      libjansson-dev libxml2-dev libgit2-dev
      libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler nginx openssl
      libmicrohttpd-dev prometheus
      python3 pyflakes3 python3-zmq python3-msgpack python3-junitparser git pre-commit
      systemd strace podman runc mmdebstrap python3-yaml neovim)
# Node.js and npm fetch the grammar; a machine may have them from elsewhere
# (its own npm), in which case Debian's would conflict.
if ! command -v npm >/dev/null 2>&1; then pkgs+=(nodejs npm); fi
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    sudo_cmd=$(need_root "${missing[@]}")
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
fi

# npm packages: npm pack, verify against scripts/deps.lock, unpack.
# fetch_npm PACKAGE VERSION INTEGRITY DIR [PATH...]: the package (or only
# the PATHs inside it, such as package/src) goes to .deps/DIR, once per
# integrity hash. STRIP=N before the call drops N leading components of
# each path (default 1: package/).
fetch_npm() {
    local pkg=$1 version=$2 integrity=$3 gdir="$deps/$4" strip=${STRIP:-1}
    shift 4
    local stamp="$gdir/.strata-integrity" tgz got
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$integrity" ]; then return 0; fi
    mkdir -p "$deps/pack"
    rm -rf "$gdir" "$deps/pack"/*
    echo "bootstrap: fetching $pkg@$version from npm"
    (cd "$deps/pack" && npm pack --silent "$pkg@$version" >/dev/null)
    # npm names a scoped package's tarball scope-name-version.tgz
    tgz="$deps/pack/$(echo "${pkg#@}" | tr / -)-$version.tgz"
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
        echo "bootstrap: integrity mismatch for $tgz" >&2
        echo "  expected $integrity" >&2
        echo "  got      $got" >&2
        exit 2
    fi
    mkdir -p "$gdir"
    tar -xzf "$tgz" -C "$gdir" --strip-components="$strip" "$@"
    rm -f "$tgz"
    echo "$integrity" >"$stamp"
}
# the grammars: sources only, compiled by CMake
fetch_npm tree-sitter-python "$TSPY_VERSION" "$TSPY_INTEGRITY" tree-sitter-python \
    package/src package/LICENSE
# TOML, for the configuration files (cli/toml.c)
fetch_npm @tree-sitter-grammars/tree-sitter-toml "$TSTOML_VERSION" "$TSTOML_INTEGRITY" \
    tree-sitter-toml package/src package/LICENSE
# The SARIF multitool's Linux build (tests only): a self-contained executable
fetch_npm @microsoft/sarif-multitool-linux "$SARIF_MULTITOOL_VERSION" \
    "$SARIF_MULTITOOL_INTEGRITY" sarif-multitool
chmod +x "$deps/sarif-multitool/Sarif.Multitool"
# typeshed's standard-library stubs as pyright ships them (only stdlib/, its
# LICENSE and the typeshed commit): the interface of the standard library
# (run/env.h); CMake copies them beside the binary and installs them.
STRIP=3 fetch_npm pyright "$PYRIGHT_VERSION" "$PYRIGHT_INTEGRITY" typeshed \
    package/dist/typeshed-fallback/stdlib package/dist/typeshed-fallback/LICENSE \
    package/dist/typeshed-fallback/commit.txt

# Validators for the tests (tests/node/package-lock.json): kubernetes-models
# and yaml, with which tests/e2e/test_deploy.sh checks deploy/kubernetes/
# against the Kubernetes API's schemas, and vscode-languageserver-protocol
# (with its vscode-jsonrpc), the LSP client library of VS Code's
# extensions, with which tests/e2e/lsp_client.mjs drives `strata lsp`.
# `npm ci` installs exactly what the lockfile names and fails on an
# integrity mismatch; no install scripts run (none of these needs one). A
# stamp holding the lockfile's digest makes a second run a no-op.
lockdir="$top/tests/node"
nodedir="$deps/test-node"
want=$(sha256sum "$lockdir/package-lock.json" | cut -d' ' -f1)
stamp="$nodedir/.strata-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] ||
    [ ! -f "$nodedir/node_modules/kubernetes-models/package.json" ]; then
    echo "bootstrap: installing tests/node/package-lock.json into .deps/test-node"
    mkdir -p "$nodedir"
    rm -f "$stamp"
    cp "$lockdir/package.json" "$lockdir/package-lock.json" "$nodedir/"
    npm ci --prefix "$nodedir" --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
fi
