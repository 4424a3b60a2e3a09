// tokenizer.mjs -- transformers.js (@lenml/tokenizers) throughput on the same corpus
// as bench/tokenizer_bench.c.  Usage: node bench/tokenizer.mjs REFERENCE.jsonl NAME [SECONDS]
// Prints the same JSON fields.  Uses the packages installed in tests/conformance.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const [ref, name, secArg] = process.argv.slice(2);
const secs = Number(secArg ?? 2);
const lines = readFileSync(ref, "utf8").split("\n").filter((l) => l);
const texts = lines.slice(1).map((l) => JSON.parse(l).text);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "..", "tests", "conformance", "package.json"));
const tok = require(`@lenml/tokenizer-${name}`).fromPreTrained();
const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
let ids = 0, passes = 0;
const t0 = process.hrtime.bigint();
let el;
do {
  for (const t of texts) ids += tok.encode(t).length;
  passes++;
  el = Number(process.hrtime.bigint() - t0) / 1e9;
} while (el < secs);
console.log(JSON.stringify({ name, texts: texts.length, bytes, ids: ids / passes, passes,
  ids_per_s: Math.round(ids / el), MB_per_s: +(bytes * passes / el / 1e6).toFixed(2) }));
