#!/usr/bin/env bash
# make_seeds.sh - rewrites the generated seeds in tests/fuzz/corpus/:
# the scan's sources (a few files of tests/data/py covering the decoding,
# f-strings, star imports, noqa and syntax errors) and, through fuzz_seedgen,
# scan results, check job inputs and results, and cache records made by
# strata itself. Run after a change of a document format:
#   tests/fuzz/make_seeds.sh build-fuzz
# Hand-written seeds (none of these names) are left alone.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-fuzz}
corpus="$top/tests/fuzz/corpus"
py=(decode_bom_coding decode_latin1 decode_invalid_utf8 decode_tab_error fstrings
    format_strings star_imports noqa_multiline syntax_nesting match_statement
    type_comments annotations_string)

mkdir -p "$corpus"/{scan,scan_result,check,project,cas_record,proto}
for f in "${py[@]}"; do
    cp "$top/tests/data/py/$f.py" "$corpus/scan/$f.py"
done
"$build/tests/fuzz/fuzz_seedgen" "$corpus"
