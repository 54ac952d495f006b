#!/usr/bin/env bash
# make_seeds.sh - rewrites the generated seeds in tests/fuzz/corpus/:
# through fuzz_seedgen, scan results, check job inputs and results, cache
# records and wire messages made by strata itself. (The scan target is
# seeded by tests/fuzz/run.sh with the fixtures in tests/data/py.) Run after a change of a document format:
#   tests/fuzz/make_seeds.sh build-fuzz
# Hand-written seeds (none of these names) are left alone.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-fuzz}
corpus="$top/tests/fuzz/corpus"

mkdir -p "$corpus"/{scan_result,check,project,cas_record,proto}
"$build/tests/fuzz/fuzz_seedgen" "$corpus"
