#!/bin/sh
# bench/run.sh -- the cheap tier (normalize + lexicon, pii, secrets, injection) against
# the obscenity peer, same corpora, one run; then the whole default pipeline for reference.
# Needs ../shared/data/train (the corpora are built from it, never committed) and npm.
# Prints each figure for both and the ratio (parapet / obscenity).
set -e
cd "$(dirname "$0")/.."
B=${B:-build}
DATA=${DATA:-../shared/data/train}
OUT=bench/out
[ -d "$DATA" ] || { echo "bench: $DATA not found (the corpora are built from it)"; exit 1; }
[ -d bench/node_modules/obscenity ] || (cd bench && npm install --no-audit --no-fund --loglevel=error)
mkdir -p $OUT
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -o $OUT/bench_cheap bench/bench_cheap.c $B/libparapet.a \
   $(pkg-config --libs libutf8proc yaml-0.1 jansson libpcre2-8 2>/dev/null || echo -lutf8proc -lyaml -ljansson -lpcre2-8) -lpthread -lm
node bench/make_corpora.mjs "$DATA" $OUT
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), 1 thread each"
ratio() { node -e "const a=JSON.parse(process.argv[1]),b=JSON.parse(process.argv[2]);console.log(process.argv[3].padEnd(22),'parapet',String(a[process.argv[4]]).padStart(10),' obscenity',String(b[process.argv[4]]).padStart(10),' ratio',(a[process.argv[4]]/b[process.argv[4]]).toFixed(1)+'x')" "$1" "$2" "$3" "$4"; }
for c in short long; do
  P=$($OUT/bench_cheap $OUT/$c.txt 5)
  O=$(node bench/obscenity_run.mjs $OUT/$c.txt 5)
  echo "[$c] parapet   $P"
  echo "[$c] obscenity $O"
  ratio "$P" "$O" "$c texts/s" docs_per_s
  ratio "$P" "$O" "$c MB/s" MB_per_s
  F=$($OUT/bench_cheap --full $OUT/$c.txt 3)
  echo "[$c] parapet with the classifier tier too: $F"
done
P=$($OUT/bench_cheap --recall $OUT/obfuscation.txt)
O=$(node bench/obscenity_recall.mjs $OUT/obfuscation.txt)
echo "[obfuscation] parapet   $P"
echo "[obfuscation] obscenity $O"
