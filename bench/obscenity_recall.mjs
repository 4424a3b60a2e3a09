// obscenity_recall.mjs -- fraction of lines the obscenity peer matches (English dataset,
// recommended transformers).  Usage: node obscenity_recall.mjs FILE
import {RegExpMatcher, englishDataset, englishRecommendedTransformers} from 'obscenity';
import fs from 'fs';
const m = new RegExpMatcher({...englishDataset.build(), ...englishRecommendedTransformers});
const l = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
let h = 0;
for (const x of l) if (m.hasMatch(x)) h++;
console.log(JSON.stringify({docs: l.length, flagged: h, recall: +(h / l.length).toFixed(4)}));
