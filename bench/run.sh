#!/bin/sh
# bench/run.sh -- the cheap tier (normalize + lexicon, pii, secrets, injection) against
# the obscenity peer, same corpora, one run; then the whole default pipeline for reference.
# Needs ../shared/data/train (the corpora are built from it, never committed) and npm.
# Prints each figure for both and the ratio (parapet / obscenity), as medians over
# ROUNDS (default 3) interleaved rounds.
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
# Each corpus is run in ROUNDS rounds, parapet then obscenity in each, so that a burst
# of load from elsewhere on a shared machine lands on one round rather than on one
# side; the medians of each side and the median of the rounds' ratios are printed.
ROUNDS=${ROUNDS:-3}
summary() { # corpus, then one "parapet-json obscenity-json" pair per line on stdin
  node -e '
    const rounds = require("fs").readFileSync(0, "utf8").trim().split("\n").map(l => l.split("\t").map(JSON.parse));
    const med = a => { const b = [...a].sort((x, y) => x - y); return b[(b.length - 1) >> 1]; };
    const c = process.argv[1];
    for (const [k, u] of [["docs_per_s", "texts/s"], ["MB_per_s", "MB/s"]]) {
      const r = rounds.map(([p, o]) => p[k] / o[k]);
      console.log(`${c} ${u}`.padEnd(18), "parapet", String(med(rounds.map(x => x[0][k]))).padStart(9),
                  " obscenity", String(med(rounds.map(x => x[1][k]))).padStart(8),
                  " ratio", med(r).toFixed(1) + "x", ` (rounds: ${r.map(x => x.toFixed(1)).join(", ")})`);
    }' "$1"
}
for c in short long; do
  : > $OUT/$c.rounds
  for r in $(seq 1 $ROUNDS); do
    P=$($OUT/bench_cheap $OUT/$c.txt 5)
    O=$(node bench/obscenity_run.mjs $OUT/$c.txt 3)
    echo "[$c round $r] parapet   $P"
    echo "[$c round $r] obscenity $O"
    printf '%s\t%s\n' "$P" "$O" >> $OUT/$c.rounds
  done
  summary $c < $OUT/$c.rounds
  F=$($OUT/bench_cheap --full $OUT/$c.txt 3)
  echo "[$c] parapet with the classifier tier too: $F"
done
P=$($OUT/bench_cheap --recall $OUT/obfuscation.txt)
O=$(node bench/obscenity_recall.mjs $OUT/obfuscation.txt)
echo "[obfuscation] parapet   $P"
echo "[obfuscation] obscenity $O"
