#!/bin/sh
# bench/matmul.sh -- pp_gemm throughput on the Llama Guard 3 1B shapes (matmul_bench.c)
# for every kernel set this CPU has, 1 and 2 threads, n = 64, 224 and 512 tokens.
# Usage: sh bench/matmul.sh [extra matmul_bench args]
set -e
cd "$(dirname "$0")/.."
B=${B:-build}
OUT=bench/out
mkdir -p $OUT
[ -f $B/libparapet.a ] || make --no-print-directory $B/libparapet.a
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -o $OUT/matmul_bench bench/matmul_bench.c $B/libparapet.a \
   $(pkg-config --libs libutf8proc yaml-0.1 jansson libpcre2-8 2>/dev/null || echo -lutf8proc -lyaml -ljansson -lpcre2-8) -lpthread -lm
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for isa in avx512 avx2; do
  for t in 1 2; do
    for n in 64 224 512; do
      $OUT/matmul_bench --isa $isa --threads $t --n $n "$@" || break
    done
  done
done
