// bench/nlc_passes_bench.mjs -- llama.cpp (node-llama-cpp 3.21.1) timing guard requests
// that need several passes each, such as ShieldGemma with four policies: one full prompt
// per policy.  The prompts are token ids written by guard_bench (IDS_DIR/ids<m>.txt for
// pass 0, ids<m>_<p>.txt for the others), so both engines score identical tokens.
// llama.cpp keeps the prefix all the prompts share in its KV cache (evaluated once, as
// REUSE=1 does in ../shared/peers/nlc_guard_bench.mjs); every pass of a request then
// evaluates the rest of its prompt and reads the next-token distribution.
//
//   node nlc_passes_bench.mjs MODEL.gguf IDS_DIR [threads=2] [requests=8]
//
// Prints one JSON line: median ms per request (all its passes), tokens evaluated.
import {readdirSync, readFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const [modelPath, dir, threadsArg = "2", nArg = "8"] = process.argv.slice(2);
const threads = Number(threadsArg), nreq = Number(nArg);
const byMsg = new Map();   // message -> [ids of pass 0, pass 1, ...]
for (const f of readdirSync(dir).sort()) {
  const m = /^ids(\d+)(?:_(\d+))?\.txt$/.exec(f);
  if (!m) continue;
  const ids = readFileSync(`${dir}/${f}`, "utf8").trim().split(",").map(Number);
  const msg = Number(m[1]), pass = m[2] ? Number(m[2]) : 0;
  if (!byMsg.has(msg)) byMsg.set(msg, []);
  byMsg.get(msg)[pass] = ids;
}
const msgs = [...byMsg.keys()].sort((a, b) => a - b).map((k) => byMsg.get(k));
const all = msgs.flat();
let lcp = all[0].length;
for (const t of all) { let i = 0; while (i < lcp && t[i] === all[0][i]) i++; lcp = i; }
const longest = Math.max(...all.map((t) => t.length));

const llama = await getLlama({gpu: false, maxThreads: threads});
const t0 = performance.now();
const model = await llama.loadModel({modelPath});
const loadMs = performance.now() - t0;
const ctx = await model.createContext({contextSize: Math.max(512, longest + 16), batchSize: 512, threads, sequences: 1});
const seq = ctx.getSequence();
await seq.evaluateWithoutGeneratingNewTokens(all[0].slice(0, lcp));

const times = [];
let evaluated = 0;
for (let r = 0; r < nreq + 1; r++) {   // request 0 warms up
  const passes = msgs[r % msgs.length];
  const t = performance.now();
  let n = 0;
  for (const ids of passes) {
    await seq.eraseContextTokenRanges([{start: lcp, end: seq.nextTokenIndex}]);
    const feed = ids.slice(lcp);
    n += feed.length;
    await seq.controlledEvaluate(feed.map((tk, i) => i === feed.length - 1 ? [tk, {generateNext: {probabilities: true}}] : tk));
  }
  if (r > 0) { times.push(performance.now() - t); evaluated += n; }
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({model: modelPath.split("/").pop(), threads, load_ms: Math.round(loadMs), passes: msgs[0].length,
  cached_prefix_tokens: lcp, requests: times.length, median_ms: +times[times.length >> 1].toFixed(1),
  mean_evaluated_tokens: +(evaluated / times.length).toFixed(1)}));
process.exit(0);
