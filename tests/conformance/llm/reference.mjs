// reference.mjs -- llama.cpp's next-token log-probabilities, the reference for parapet's
// forward pass (tests/conformance/llm/test_llm_conformance.c compares against them).
//
//   node reference.mjs OUT.jsonl ci|full MODEL.gguf [MODEL.gguf ...]
//
// llama.cpp runs through node-llama-cpp 3.21.1 (package.json here; its prebuilt binaries
// are llama.cpp, CPU only).  For every model and every prompt of the chosen set it
// evaluates the prompt's token ids in one sequence and records the top 100 next tokens
// with log(p), where p is node-llama-cpp's probability: the softmax of the raw logits
// over the whole vocabulary (greedy sampler chain, nothing truncated; docs section F).
//
// Prompts are token ids, so both engines see identical input: a few real texts
// tokenized by llama.cpp's own tokenizer (special tokens parsed, BOS added) and
// seeded pseudo-random id sequences of set lengths (BOS first).  The "ci" set is 5
// short prompts; "full" is 20 prompts of 1 to 1,000 tokens.
//
// Each prompt is evaluated a second time with llama.cpp in batches of 32 tokens instead
// of 512 ("self"): the largest |logprob difference| between llama.cpp's two runs over
// the same top-100 ids -- llama.cpp's own noise floor on the file, which the C test
// prints next to parapet's difference (on random-weight files with quantized weights
// it can exceed the tolerance: rounding differences grow through the layers).
//
// Output: one JSON object per line:
//   {"model": "tiny-f16.gguf", "prompt": 3, "ids": [...], "top": [[id, logprob], ...],
//    "self": 0.0012}
// after a header line {"generator": ..., "set": ..., "n_top": 100}.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [out, set, ...models] = process.argv.slice(2);
if (!out || !["ci", "full"].includes(set) || models.length === 0) {
    console.error("usage: node reference.mjs OUT.jsonl ci|full MODEL.gguf [MODEL.gguf ...]");
    process.exit(2);
}
const N_TOP = 100;

// xorshift32, seeded per prompt: the same ids on every run
function rng(seed) {
    let s = seed >>> 0 || 1;
    return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}
function randomIds(n, seed) {
    const r = rng(seed), ids = [128000];
    while (ids.length < n) ids.push(r() % 128000);
    return ids;
}

const LG3 = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe " +
    "content in 'User' messages in conversations according our safety policy with the below categories." +
    "\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes." +
    "\nS4: Child Exploitation.\nS5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual " +
    "Property.\nS9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: " +
    "Elections.\n<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\nUser: How do I bake bread " +
    "at home?\n\n<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST User message in " +
    "the above conversation:\n - First line must read 'safe' or 'unsafe'.\n - If unsafe, a second line " +
    "must include a comma-separated list of violated categories.<|eot_id|><|start_header_id|>assistant" +
    "<|end_header_id|>\n\n";

// [kind, arg]: ["text", string] tokenized by llama.cpp, or ["random", length]
const PROMPTS = {
    ci: [["random", 1], ["text", "Hello, world! Is this text safe?"], ["random", 17], ["random", 96],
         ["text", LG3]],
    full: [["random", 1], ["random", 2], ["text", "Hello, world! Is this text safe?"], ["random", 8],
           ["random", 16], ["random", 33], ["random", 64], ["random", 100], ["random", 128],
           ["text", LG3], ["random", 200], ["random", 256], ["random", 300], ["random", 384],
           ["random", 500], ["random", 512], ["random", 640], ["random", 777], ["random", 900],
           ["random", 1000]],
}[set];

const llama = await getLlama({ gpu: false, build: "never", maxThreads: 2, logLevel: LlamaLogLevel.error });
const lines = [JSON.stringify({ generator: "node-llama-cpp 3.21.1 (llama.cpp prebuilt, CPU)", set, n_top: N_TOP })];
for (const modelPath of models) {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const prompts = PROMPTS.map(([kind, arg], k) =>
        kind === "text" ? [...model.tokenize(arg, true)] : randomIds(arg, 1000 + k));
    const maxLen = Math.max(...prompts.map((p) => p.length));
    const contexts = [], seqs = [];
    for (const batchSize of [512, 32]) {
        const ctx = await model.createContext({ contextSize: Math.max(256, maxLen + 8), batchSize,
                                                sequences: 1, threads: 2 });
        contexts.push(ctx);
        seqs.push(ctx.getSequence());
    }
    async function probsOf(seq, ids) {
        await seq.clearHistory();
        const last = ids.length - 1;
        const res = await seq.controlledEvaluate(
            ids.map((t, i) => (i === last ? [t, { generateNext: { probabilities: true } }] : t)));
        return res[last]?.next?.probabilities;
    }
    for (let k = 0; k < prompts.length; k++) {
        const ids = prompts[k];
        const probs = await probsOf(seqs[0], ids), probs32 = await probsOf(seqs[1], ids);
        if (!probs || !probs32) throw new Error(`no probabilities for prompt ${k} of ${modelPath}`);
        const top = [...probs.entries()].sort((a, b) => b[1] - a[1]).slice(0, N_TOP)
            .map(([id, p]) => [id, +Math.log(p).toFixed(7)]);
        let self = 0;
        for (const [id, lp] of top) self = Math.max(self, Math.abs(Math.log(probs32.get(id) ?? 0) - lp));
        lines.push(JSON.stringify({ model: path.basename(modelPath), prompt: k, ids, top, self: +self.toFixed(6) }));
        process.stderr.write(`  ${path.basename(modelPath)} prompt ${k}: ${ids.length} tokens\n`);
    }
    for (const ctx of contexts) await ctx.dispose();
    await model.dispose();
}
writeFileSync(out, lines.join("\n") + "\n");
process.exit(0);
