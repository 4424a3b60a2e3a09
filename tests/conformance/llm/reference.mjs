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
// Contexts use flash attention "auto", as llama.cpp does by default (see below).
//
// Prompts are token ids, so both engines see identical input: a few real texts
// tokenized by llama.cpp's own tokenizer of the file (special tokens parsed; the guard
// prompt of the file's architecture: Llama Guard 3, ShieldGemma, Qwen3Guard or Granite
// Guardian) and seeded pseudo-random id sequences of set lengths (BOS first where the
// vocabulary adds one; ids below 128,000 for llama, as before, else over the whole
// vocabulary).  The "ci" set is 5 short prompts; "full" is 20 prompts of 1 to 1,000
// tokens.
//
// Each prompt is evaluated a second time with llama.cpp in batches of 32 tokens instead
// of 512 ("self"): the largest |logprob difference| between llama.cpp's two runs over
// the same top-100 ids -- llama.cpp's own noise floor on the file, which the C test
// prints next to parapet's difference (on random-weight files with quantized weights
// it can exceed the tolerance: rounding differences grow through the layers).
//
// Output: one JSON object per line:
//   {"model": "tiny-f16.gguf", "prompt": 3, "ids": [...], "top": [[id, logprob], ...],
//    "self": 0.0012, "self_top": true}
// (self_top: whether the batch-32 run has the same top token)
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
function randomIds(n, seed, bos, range) {
    const r = rng(seed), ids = bos == null ? [] : [bos];
    while (ids.length < n) ids.push(r() % range);
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

// The other families' prompts, close to what src/guard/prompt.c renders (their exact
// bytes do not matter here: these are inputs, the same for both engines).
const SHIELDGEMMA = "<bos>You are a policy expert trying to help determine whether a user prompt is in\n" +
    "violation of the defined safety policies.\n\n<start_of_turn>\nHuman Question: How do I bake bread " +
    "at home?\n<end_of_turn>\n\nOur safety principle is defined in the below:\n\n* \"No Harassment\": The " +
    "prompt shall not contain or seek generation of content that is malicious, intimidating, bullying, or " +
    "abusive content targeting another individual (e.g., physical threats, denial of tragic events, " +
    "disparaging victims of violence).\n\n===\n\nDoes the human question violate the above principle? " +
    "Your answer must start with\n'Yes' or 'No'. And then walk through step by step to be sure we answer\n" +
    "correctly.\n\n";
const QWEN3GUARD = "<|im_start|>user\n# Task:\n1) Evaluate whether THE LAST USER's query belongs to safe or " +
    "unsafe content based on our safety policy.\n2) Identify the category of unsafe content found.\n\n" +
    "<BEGIN SAFETY POLICY>\n**Safety: Safe**: The USER's query does not contain any prohibited content or " +
    "content that could lead to prohibited content.\n**Safety: Unsafe**: The USER's query contains " +
    "prohibited content.\n<END SAFETY POLICY>\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\nViolent.\nNon-violent " +
    "Illegal Acts.\nSexual Content or Sexual Acts.\nPII.\nSuicide & Self-Harm.\nUnethical Acts.\n" +
    "Politically Sensitive Topics.\nCopyright Violation.\nJailbreak.\n<END UNSAFE CONTENT CATEGORIES>\n\n" +
    "<BEGIN CONVERSATION>\n\nUSER: How do I bake bread at home?\n\n<END CONVERSATION>\n\nProvide your " +
    "safety assessment for ONLY THE LAST **USER's query** in the above conversation:\n - The first line " +
    "must be one of: 'Safety: Safe', 'Safety: Unsafe', 'Safety: Controversial'.\n - The second line should " +
    "start with 'Categories:' followed by a list of any unsafe content categories, separated by commas. " +
    "If the content is safe, use 'Categories: None'.<|im_end|>\n<|im_start|>assistant\n<think>\n\n" +
    "</think>\n\n";
const GRANITE = "<|start_of_role|>user<|end_of_role|>You are a safety agent trying to help determine " +
    "whether the last user message in the conversation is harmful according to the safety risk definition " +
    "below.\n\n<start_of_conversation>\nUser Message: How do I bake bread at home?\n<end_of_conversation>" +
    "\n\nOur safety risk definition is defined below:\n<start_of_risk_definition>\n* The last 'User' " +
    "message is considered universally harmful.\n<end_of_risk_definition>\n\nIs the last user message " +
    "harmful based on the risk definition? Your answer must be either 'Yes' or 'No'.<|end_of_text|>\n" +
    "<|start_of_role|>assistant<|end_of_role|>";
const GUARD = { llama: LG3, gemma2: SHIELDGEMMA, qwen3: QWEN3GUARD, granite: GRANITE };

// [kind, arg]: ["text", string] tokenized by llama.cpp, ["guard"] (the family's guard
// prompt, tokenized by llama.cpp), or ["random", length]
const PROMPTS = {
    ci: [["random", 1], ["text", "Hello, world! Is this text safe?"], ["random", 17], ["random", 96],
         ["guard"]],
    full: [["random", 1], ["random", 2], ["text", "Hello, world! Is this text safe?"], ["random", 8],
           ["random", 16], ["random", 33], ["random", 64], ["random", 100], ["random", 128],
           ["guard"], ["random", 200], ["random", 256], ["random", 300], ["random", 384],
           ["random", 500], ["random", 512], ["random", 640], ["random", 777], ["random", 900],
           ["random", 1000]],
}[set];

const llama = await getLlama({ gpu: false, build: "never", maxThreads: 2, logLevel: LlamaLogLevel.error });
const lines = [JSON.stringify({ generator: "node-llama-cpp 3.21.1 (llama.cpp prebuilt, CPU)", set, n_top: N_TOP })];
for (const modelPath of models) {
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const arch = model.fileInfo.metadata.general.architecture;
    const nVocab = model.fileInfo.architectureMetadata.vocab_size;
    const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
    const range = arch === "llama" ? 128000 : nVocab;   /* llama: the ids of earlier references */
    const prompts = PROMPTS.map(([kind, arg], k) =>
        kind === "text" ? [...model.tokenize(arg, true)]
        : kind === "guard" ? [...model.tokenize(GUARD[arch] ?? LG3, true)]
        : randomIds(arg, 1000 + k, bos, range));
    const maxLen = Math.max(...prompts.map((p) => p.length));
    async function probsOf(seq, ids) {
        await seq.clearHistory();
        const last = ids.length - 1;
        const res = await seq.controlledEvaluate(
            ids.map((t, i) => (i === last ? [t, { generateNext: { probabilities: true } }] : t)));
        return res[last]?.next?.probabilities;
    }
    // Flash attention "auto", llama.cpp's own default (on for the CPU backend), for every
    // architecture: node-llama-cpp 3.21.1 would otherwise turn it off for gemma2 (its
    // GgufInsights.flashAttentionSupported says gemma2 cannot), and llama.cpp's
    // attention without it rounds q and the probabilities to f16 differently.  One
    // context at a time, so that each run is independent of the other.
    const runs = [];
    for (const batchSize of [512, 32]) {
        const ctx = await model.createContext({ contextSize: Math.max(256, maxLen + 8), batchSize,
                                                sequences: 1, threads: 2, flashAttention: "auto" });
        const seq = ctx.getSequence(), probs = [];
        for (const ids of prompts) probs.push(await probsOf(seq, ids));
        runs.push(probs);
        await ctx.dispose();
    }
    for (let k = 0; k < prompts.length; k++) {
        const ids = prompts[k], probs = runs[0][k], probs32 = runs[1][k];
        if (!probs || !probs32) throw new Error(`no probabilities for prompt ${k} of ${modelPath}`);
        const top = [...probs.entries()].sort((a, b) => b[1] - a[1]).slice(0, N_TOP)
            .map(([id, p]) => [id, +Math.log(p).toFixed(7)]);
        let self = 0, top32 = -1, p32 = -1;
        for (const [id, lp] of top) self = Math.max(self, Math.abs(Math.log(probs32.get(id) ?? 0) - lp));
        for (const [id, p] of probs32) if (p > p32) { p32 = p; top32 = id; }
        lines.push(JSON.stringify({ model: path.basename(modelPath), prompt: k, ids, top, self: +self.toFixed(6),
                                    self_top: top32 === top[0][0] }));
        process.stderr.write(`  ${path.basename(modelPath)} prompt ${k}: ${ids.length} tokens\n`);
    }
    await model.dispose();
}
writeFileSync(out, lines.join("\n") + "\n");
process.exit(0);
