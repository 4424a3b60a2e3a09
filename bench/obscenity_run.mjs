// obscenity_run.mjs -- the obscenity peer, run exactly as ../shared/peers/obscenity_bench.mjs
// (English dataset, recommended transformers, getAllMatches per text), repeated `reps`
// times; prints the median run as JSON.  Usage: node obscenity_run.mjs FILE [reps]
import {RegExpMatcher, englishDataset, englishRecommendedTransformers} from 'obscenity';
import fs from 'fs';
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
const reps = +(process.argv[3] || 3);
const m = new RegExpMatcher({...englishDataset.build(), ...englishRecommendedTransformers});
let bytes = 0; for (const l of lines) bytes += Buffer.byteLength(l);
for (let i = 0; i < Math.min(2000, lines.length); i++) m.hasMatch(lines[i]);
const runs = [];
let hits = 0;
for (let r = 0; r < reps; r++) {
  const t = performance.now(); hits = 0;
  for (const l of lines) if (m.getAllMatches(l).length) hits++;
  runs.push((performance.now() - t) / 1000);
}
runs.sort((a, b) => a - b);
const dt = runs[Math.floor(runs.length / 2)];
console.log(JSON.stringify({docs: lines.length, MB: +(bytes / 1e6).toFixed(2), sec: +dt.toFixed(3),
  docs_per_s: Math.round(lines.length / dt), MB_per_s: +(bytes / 1e6 / dt).toFixed(2), flagged: hits}));
