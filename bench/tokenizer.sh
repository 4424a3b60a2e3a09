#!/bin/sh
# bench/tokenizer.sh -- parapet's tokenizers against transformers.js, same corpus.
#
# The corpus is the conformance corpus (tests/conformance/corpus.mjs, ~6,000 strings,
# ~1.3 MB); both sides encode every string with the BOS and special-token parsing,
# single-threaded, in passes for SECONDS each (default 3).  Prints ids/s and MB/s of
# each and the ratio parapet / transformers.js per vocabulary.  transformers.js keeps
# an LRU cache of BPE results between calls (so its later passes are warm); parapet
# has no cache.
set -e
cd "$(dirname "$0")/.."
B=${B:-build}
SECS=${SECONDS_PER_RUN:-3}
sh tests/conformance/run.sh >/dev/null 2>&1 || true   # installs the packages, writes the reference
REF=$B/tokenizer-conformance/reference.jsonl
[ -f "$REF" ] || { echo "bench: $REF missing (tests/conformance/run.sh needs node and npm)"; exit 1; }
mkdir -p bench/out
[ -f $B/libparapet.a ] || make --no-print-directory -j2 $B/libparapet.a
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -o bench/out/tokenizer_bench bench/tokenizer_bench.c $B/libparapet.a \
   $(pkg-config --libs libutf8proc yaml-0.1 jansson libpcre2-8 2>/dev/null || echo -lutf8proc -lyaml -ljansson -lpcre2-8) -lpthread -lm
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), 1 thread each"
for v in llama3_1 qwen3 gemma3 llama2; do
  P=$(bench/out/tokenizer_bench "$REF" $v $SECS)
  J=$(node bench/tokenizer.mjs "$REF" $v $SECS)
  node -e '
    const p = JSON.parse(process.argv[1]), j = JSON.parse(process.argv[2]);
    const f = (x) => String(x).padStart(11);
    console.log(`${p.name.padEnd(9)} parapet ${f(p.ids_per_s)} ids/s ${f(p.MB_per_s)} MB/s | transformers.js ${f(j.ids_per_s)} ids/s ${f(j.MB_per_s)} MB/s | ratio ${(p.ids_per_s / j.ids_per_s).toFixed(1)}x` +
      (p.ids === j.ids ? "" : `  (id counts differ: ${p.ids} vs ${j.ids})`));
  ' "$P" "$J"
done
