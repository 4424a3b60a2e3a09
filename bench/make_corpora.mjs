// make_corpora.mjs -- builds the benchmark corpora from ../shared/data/train (never
// committed): short.txt (one message per line), long.txt (documents of ~64 KB, one
// per line), and obfuscation.txt (obfuscated profanity in carrier sentences, built by
// the transforms below from a fixed seed).  Usage: node make_corpora.mjs DATA_DIR OUT_DIR
import fs from 'fs';
import path from 'path';

const [dataDir, outDir] = process.argv.slice(2);
fs.mkdirSync(outDir, {recursive: true});

// ---- short messages: every text of the train/ datasets, newlines folded
const files = fs.readdirSync(dataDir).filter(f => f.endsWith('.jsonl')).sort();
const texts = [];
for (const f of files)
  for (const line of fs.readFileSync(path.join(dataDir, f), 'utf8').split('\n')) {
    if (!line) continue;
    const t = JSON.parse(line).text.replace(/[\r\n]+/g, ' ').trim();
    if (t) texts.push(t);
  }
fs.writeFileSync(path.join(outDir, 'short.txt'), texts.join('\n') + '\n');

// ---- long documents: consecutive messages joined to ~64 KB
const docs = [];
let cur = [];
let len = 0;
for (const t of texts) {
  cur.push(t); len += Buffer.byteLength(t) + 1;
  if (len >= 65536) { docs.push(cur.join(' ')); cur = []; len = 0; }
}
fs.writeFileSync(path.join(outDir, 'long.txt'), docs.join('\n') + '\n');

// ---- obfuscation set
let seed = 12345;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = a => a[Math.floor(rnd() * a.length)];
const words = ['fuck', 'shit', 'bitch', 'asshole', 'bastard', 'cunt', 'dick', 'whore',
               'slut', 'pussy', 'motherfucker', 'fucking', 'bullshit', 'cock', 'twat', 'wanker'];
const carriers = ['you are such a {w}', '{w} you', 'what the {w} is this', 'shut up {w}',
                  'go away you {w}', 'this is {w}', 'i hate this {w} game', 'omg {w}'];
const leet = {a: ['4', '@'], e: ['3'], i: ['1', '!'], o: ['0'], s: ['5', '$'], t: ['7']};
const homo = {a: '\u0430', e: '\u0435', o: '\u043e', p: '\u0440', c: '\u0441', y: '\u0443',
              x: '\u0445', i: '\u0456', s: '\u0455', h: '\u04bb', k: '\u03ba', u: '\u03c5'};
const seps = ['.', ' ', '-', '_', '*'.replace('*', '.'), ' . '];
const T = {
  leet: w => { const idx = [...w].map((c, i) => leet[c] ? i : -1).filter(i => i >= 0);
               if (!idx.length) return null;
               const k = pick(idx); return w.slice(0, k) + pick(leet[w[k]]) + w.slice(k + 1); },
  leet_all: w => [...w].map(c => leet[c] ? leet[c][0] : c).join(''),
  homoglyph: w => { const idx = [...w].map((c, i) => homo[c] ? i : -1).filter(i => i >= 0);
                    if (!idx.length) return null;
                    return [...w].map((c, i) => idx.includes(i) && rnd() < 0.6 ? homo[c] : c).join(''); },
  fullwidth: w => [...w].map(c => String.fromCodePoint(c.codePointAt(0) + 0xFEE0)).join(''),
  separator: w => [...w].join(pick(seps)),
  zero_width: w => [...w].join(pick(['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad'])),
  repeat: w => { const k = Math.floor(rnd() * w.length); return w.slice(0, k + 1) + w[k].repeat(2 + Math.floor(rnd() * 4)) + w.slice(k + 1); },
  case: w => [...w].map(c => rnd() < 0.5 ? c.toUpperCase() : c).join(''),
  mask: w => w.length < 4 ? null : w[0] + '*'.repeat(w.length > 5 ? 2 : 1) + w.slice(w.length > 5 ? 3 : 2),
};
const mixes = [['leet', 'repeat'], ['homoglyph', 'case'], ['leet', 'separator'], ['zero_width', 'case'],
               ['repeat', 'case'], ['leet', 'zero_width']];
const out = [];
for (const w of words) {
  for (const [name, f] of Object.entries(T))
    for (let k = 0; k < 3; k++) {
      const o = f(w); if (!o || o === w) continue;
      out.push(`${name}\t${pick(carriers).replace('{w}', o)}`);
    }
  for (const m of mixes) {
    let o = w;
    for (const n of m) { const r = T[n](o); if (r) o = r; }
    if (o !== w) out.push(`${m.join('+')}\t${pick(carriers).replace('{w}', o)}`);
  }
}
fs.writeFileSync(path.join(outDir, 'obfuscation.tsv'), out.join('\n') + '\n');
fs.writeFileSync(path.join(outDir, 'obfuscation.txt'), out.map(l => l.split('\t')[1]).join('\n') + '\n');
console.log(JSON.stringify({short: texts.length, long: docs.length, obfuscation: out.length}));
