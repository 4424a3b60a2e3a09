// corpus.mjs -- the tokenizer conformance corpus, generated deterministically.
//
// Exports corpus(): an array of strings (>= 5,000) that exercise everything a
// tokenizer can get wrong: every script we could name (as code-point ranges of
// long-standing Unicode blocks), emoji with ZWJ sequences, skin tones, flags and
// keycaps, combining marks in composed and decomposed form (NFC matters for Qwen),
// right-to-left text with digits and bidi controls, source code, runs of every kind
// of whitespace and newline, long digit strings in several number systems,
// contractions in odd cases, special-token lookalikes and the real special tokens,
// and a few long strings (a long word without spaces is one SentencePiece "word").
// The hand-written strings below are our own; the rest comes from a seeded PRNG,
// so every run (and every machine) produces the same corpus.
//
// Characters assigned only in Unicode 14 or later are avoided on purpose: PCRE2
// 10.42 knows Unicode 14, utf8proc 2.6 knows Unicode 13 and Node's ICU knows 15.1,
// so their \p{L} and NFC could legitimately disagree there (docs/tokenizers.md).

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// [name, first, last] -- blocks assigned by Unicode 6 at the latest.
const SCRIPTS = [
  ["latin", 0x41, 0x7a], ["latin1", 0xc0, 0xff], ["latin-ext-a", 0x100, 0x17f],
  ["latin-ext-b", 0x180, 0x24f], ["ipa", 0x250, 0x2af], ["greek", 0x391, 0x3c9],
  ["cyrillic", 0x400, 0x4ff], ["armenian", 0x531, 0x587], ["hebrew", 0x5d0, 0x5ea],
  ["arabic", 0x620, 0x64a], ["arabic-ext", 0x671, 0x6d3], ["syriac", 0x710, 0x72f],
  ["thaana", 0x780, 0x7a5], ["nko", 0x7ca, 0x7ea], ["devanagari", 0x900, 0x97f],
  ["bengali", 0x985, 0x9b9], ["gurmukhi", 0xa05, 0xa39], ["gujarati", 0xa85, 0xab9],
  ["oriya", 0xb05, 0xb39], ["tamil", 0xb85, 0xbb9], ["telugu", 0xc05, 0xc39],
  ["kannada", 0xc85, 0xcb9], ["malayalam", 0xd05, 0xd39], ["sinhala", 0xd85, 0xdc6],
  ["thai", 0xe01, 0xe4e], ["lao", 0xe81, 0xeae], ["tibetan", 0xf40, 0xf6a],
  ["myanmar", 0x1000, 0x102a], ["georgian", 0x10d0, 0x10fa], ["hangul-jamo", 0x1100, 0x1159],
  ["ethiopic", 0x1200, 0x1248], ["cherokee", 0x13a0, 0x13f4], ["ucas", 0x1401, 0x1676],
  ["ogham", 0x1681, 0x169a], ["runic", 0x16a0, 0x16ea], ["khmer", 0x1780, 0x17b3],
  ["mongolian", 0x1820, 0x1877], ["greek-ext", 0x1f00, 0x1f15], ["hiragana", 0x3041, 0x3096],
  ["katakana", 0x30a1, 0x30fa], ["bopomofo", 0x3105, 0x312c], ["cjk", 0x4e00, 0x9fa5],
  ["yi", 0xa000, 0xa48c], ["hangul", 0xac00, 0xd7a3], ["fullwidth", 0xff21, 0xff5a],
  ["math-alnum", 0x1d400, 0x1d6a3], ["cjk-ext-b", 0x20000, 0x2a6d6], ["gothic", 0x10330, 0x1034a],
  ["deseret", 0x10400, 0x1044f], ["linear-b", 0x10000, 0x1000b], ["cuneiform", 0x12000, 0x1236e],
  ["egyptian", 0x13000, 0x1342e], ["box-drawing", 0x2500, 0x257f], ["arrows", 0x2190, 0x21ff],
  ["math-ops", 0x2200, 0x22ff], ["dingbats", 0x2701, 0x27bf], ["currency", 0x20a0, 0x20b5],
  ["punct-general", 0x2010, 0x2027], ["cjk-punct", 0x3001, 0x301f], ["braille", 0x2800, 0x28ff],
];

const EMOJI = [
  "😀", "😂", "🥲", "🤖", "👍", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "🇧🇷", "1️⃣", "#️⃣",
  "❤️", "🔥", "💩", "🧑🏿‍🚀", "🐈‍⬛", "✨", "🎉", "🙏🏻", "☕", "⚠️", "✅", "❌", "🚀", "🌍", "👀",
];

const COMBINING = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0x327, 0x328, 0x323, 0x331, 0x35c, 0x36f];

const WS = [" ", "  ", "\t", "\n", "\r\n", "\n\n", "\r", "\u00a0", "\u3000", "\u2028", "\u2029",
  "\u0085", "\u180e", "\ufeff", "\u200b", "\u2009", "\u202f", "\u000b", "\u000c", "   \n", " \t \n "];

const SPECIALS = [
  "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
  "<|reserved_special_token_5|>", "<|python_tag|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>",
  "<s>", "</s>", "<unk>", "<bos>", "<eos>", "<pad>", "<start_of_turn>", "<end_of_turn>", "<mask>",
  "<unused7>", "<table>", "</td>", "<h2>", "<0x41>", "<0xE2>", "▁", "▁▁", "▁▁▁▁", "[multimodal]",
  "<image_soft_token>", "<think>", "</think>", "<tool_call>", "<|fim_prefix|>",
];
const LOOKALIKES = [
  "<|begin_of_text|", "<|begin_of_text>", "< |eot_id|>", "<|EOT_ID|>", "<<s>>", "<s >", "< s>",
  "<|im_start|>>", "<|im_start", "<bos", "bos>", "<start_of_turn >", "<unused>", "<unused99999>",
  "<0x4>", "<0xZZ>", "<|>", "<||>", "<|reserved_special_token_|>", "<\u200b|eot_id|>", "＜|eot_id|＞",
];

const HAND = [
  "", " ", "a", "Hello world", "Hello  world", " Hello", "Hello ", "  leading and trailing  ",
  "I'm sure you'll see it's fine; we've done what they'd want.", "DON'T YOU'LL WE'VE I'M HE'D",
  "It'S wEiRd CaSe'Ll Do", "rock'n'roll o'clock ma'am y'all", "'s 't 're 've 'm 'll 'd", "''s'''t",
  "l'ſ l'K l'k l'K", "The quick brown fox jumps over the lazy dog.", "café naïve coöperate résumé",
  "cafe\u0301 nai\u0308ve  A\u030a  \u1100\u1161\u11a8", "Ａｂｃ１２３ｘｙｚ", "ﬁ ﬂ ﬃ ㎏ ㍿ ① ½ Ⅻ ²³",
  "Straße GROSSE ǅ ǈ ǋ İstanbul ıi", "日本語のテキストです。東京タワー", "中文文本，包含标点符号！？",
  "한국어 텍스트입니다", "Tiếng Việt có dấu", "ภาษาไทยไม่มีช่องว่าง", "हिन्दी भाषा देवनागरी",
  "العربية من اليمين إلى اليسار ١٢٣٤٥", "עברית עם ניקוד: שָׁלוֹם", "‏שלום‎ \u202eevil\u202c text",
  "Ελληνικά κείμενα", "Русский текст с цифрами 2024 года", "Ճանապարհ", "ქართული", "አማርኛ",
  "12345", "1234567890123456789012345678901234567890", "3.14159265358979323846", "1,000,000.00",
  "٠١٢٣٤٥٦٧٨٩", "۱۲۳۴۵۶", "०१२३४५६७८९", "０１２３４５", "ⅠⅡⅢⅣ", "x = 10**9 + 7", "0xDEADBEEF 0b1010",
  "int main(void) {\n\treturn 0;\n}\n", "def f(x):\n    return x ** 2  # square\n",
  "for (let i = 0; i < n; ++i) { sum += a[i]; }", "<div class=\"x\">&nbsp;&amp;</div>",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "SELECT * FROM users WHERE id = 42;",
  "https://example.com/path?q=a+b&x=1#frag", "user@example.com +1 (555) 010-9999",
  "\n", "\n\n\n", "\r\n\r\n", "\t\t", "   ", "a\n\nb", "a \n b", "a\t\tb", " \n ", "x\u00a0y",
  "end.\n", "!!!???...", "--- *** ___ ===", "$$$ €€€ £ ¥ ₹", "🙂🙂🙂", "a🙂b", "👩‍👩‍👧‍👧 family",
  "<|begin_of_text|>Hello<|eot_id|>", "<s>[INST] hi [/INST]</s>", "<start_of_turn>user\nhi<end_of_turn>",
  "<|im_start|>user\nhello<|im_end|>", "text<|eot_id|>text", "<bos><bos>", "▁leading meta",
  "\u0000nul", "\u0001\u0002\u0003 controls \u007f", "\ud83d\ude00 astral", "\u{10ffff}\u{e0001}\u{e0041}",
  "zero\u200bwidth\u200cjoin\u200dthing\u2060", "soft\u00adhyphen", "tab\there", "mixed\u3000ideographic",
];

function pick(r, arr) { return arr[Math.floor(r() * arr.length)]; }
function randCp(r, lo, hi) {
  for (;;) {
    const c = lo + Math.floor(r() * (hi - lo + 1));
    if (c >= 0xd800 && c <= 0xdfff) continue;
    return String.fromCodePoint(c);
  }
}
function word(r, [_, lo, hi], maxLen = 8) {
  let w = "";
  const n = 1 + Math.floor(r() * maxLen);
  for (let i = 0; i < n; i++) w += randCp(r, lo, hi);
  return w;
}
function digits(r, n) { let s = ""; for (let i = 0; i < n; i++) s += "0123456789"[Math.floor(r() * 10)]; return s; }

export function corpus() {
  const r = rng(20240611);
  const out = [...HAND];
  // every script: words, sentences, mixed with ASCII, punctuation and digits
  for (const sc of SCRIPTS) {
    for (let k = 0; k < 30; k++) {
      const n = 1 + Math.floor(r() * 6);
      const parts = [];
      for (let i = 0; i < n; i++) {
        const x = r();
        if (x < 0.6) parts.push(word(r, sc));
        else if (x < 0.7) parts.push(digits(r, 1 + Math.floor(r() * 6)));
        else if (x < 0.8) parts.push(pick(r, [",", ".", "!", "?", ":", ";", "(", ")", "\"", "'", "-", "—", "…"]));
        else if (x < 0.9) parts.push(word(r, pick(r, SCRIPTS)));
        else parts.push(pick(r, ["the", "and", "of", "to", "is", "I'm", "don't", "OK"]));
      }
      const sep = () => (r() < 0.85 ? " " : pick(r, WS));
      out.push(parts.reduce((a, p, i) => (i ? a + sep() + p : p), ""));
    }
  }
  // emoji sequences
  for (let k = 0; k < 300; k++) {
    let s = "";
    const n = 1 + Math.floor(r() * 6);
    for (let i = 0; i < n; i++) {
      s += pick(r, EMOJI);
      if (r() < 0.4) s += pick(r, [" ", "", "!", "\n", "a", "😀"]);
    }
    out.push(s);
  }
  // combining marks (composed and decomposed; stacked; on odd bases)
  for (let k = 0; k < 300; k++) {
    let s = "";
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) {
      s += pick(r, ["a", "e", "o", "u", "A", "n", "c", "z", "ı", "α", "и", "ㄱ", " ", "1", "😀"]);
      const m = Math.floor(r() * 3);
      for (let j = 0; j < m; j++) s += String.fromCodePoint(pick(r, COMBINING));
    }
    out.push(r() < 0.5 ? s : s.normalize("NFD"));
  }
  // Hangul jamo sequences that compose under NFC
  for (let k = 0; k < 60; k++) {
    let s = "";
    for (let i = 0; i < 1 + Math.floor(r() * 5); i++)
      s += String.fromCodePoint(0x1100 + Math.floor(r() * 19), 0x1161 + Math.floor(r() * 21)) +
        (r() < 0.5 ? String.fromCodePoint(0x11a8 + Math.floor(r() * 27)) : "");
    out.push(s);
  }
  // right-to-left with digits, punctuation and bidi controls
  const BIDI = ["\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2069"];
  for (let k = 0; k < 300; k++) {
    const sc = pick(r, [SCRIPTS[9], SCRIPTS[10], SCRIPTS[8], SCRIPTS[11], SCRIPTS[12]]);
    let s = word(r, sc);
    for (let i = 0; i < 4; i++) {
      const x = r();
      s += x < 0.3 ? " " + digits(r, 1 + Math.floor(r() * 5)) : x < 0.5 ? pick(r, BIDI) : x < 0.7 ? " " + word(r, SCRIPTS[0]) : " " + word(r, sc);
    }
    out.push(s);
  }
  // whitespace runs and newlines around words
  for (let k = 0; k < 500; k++) {
    let s = r() < 0.5 ? pick(r, WS) : "";
    const n = 1 + Math.floor(r() * 5);
    for (let i = 0; i < n; i++) {
      s += r() < 0.7 ? pick(r, ["word", "x", "Hello", "123", "!", "日本", "é", "'s"]) : "";
      let w = "";
      const m = 1 + Math.floor(r() * 4);
      for (let j = 0; j < m; j++) w += pick(r, WS);
      s += w;
    }
    out.push(s);
  }
  // long digit strings in several number systems, with separators
  const DIGITS = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "０１２３４５６７８９", "๐๑๒๓๔๕๖๗๘๙"];
  for (let k = 0; k < 400; k++) {
    const ds = [...pick(r, DIGITS)];
    let s = "";
    const n = 1 + Math.floor(r() * 40);
    for (let i = 0; i < n; i++) {
      s += ds[Math.floor(r() * 10)];
      if (r() < 0.08) s += pick(r, [",", ".", " ", "-", "/", ":", "e", "x", "%"]);
    }
    out.push(r() < 0.3 ? "value: " + s : s);
  }
  // contractions in every case, with neighbours
  const CONTR = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'x", "'", "’s"];
  for (let k = 0; k < 200; k++) {
    let s = "";
    for (let i = 0; i < 1 + Math.floor(r() * 4); i++)
      s += pick(r, ["he", "SHE", "it", "we", "x", "1", " ", "", "é", "日"]) + pick(r, CONTR) + pick(r, ["", " ", "s", "\n", "'"]);
    out.push(s);
  }
  // special tokens and lookalikes, embedded in text
  for (let k = 0; k < 600; k++) {
    let s = "";
    for (let i = 0; i < 1 + Math.floor(r() * 5); i++) {
      const x = r();
      s += x < 0.4 ? pick(r, SPECIALS) : x < 0.7 ? pick(r, LOOKALIKES) : pick(r, ["hi", " ", "\n", "text", "user", "▁x", "  ", "ok."]);
    }
    out.push(s);
  }
  // source code
  const CODE = ["if", "else", "return", "{", "}", "(", ")", ";", "=", "==", "!=", "->", "=>", "::", "#include", "<stdio.h>",
    "printf(\"%d\\n\", x);", "self.x", "__init__", "None", "[]", "{}", "0x1F", "//", "/*", "*/", "#", "\"str\"", "'c'", "`tpl`",
    "x+=1", "a&&b", "a||b", "~x", "^", "@decorator", "$var", "<T>", "</>", "λ", "…", "i++", "\\n", "\\t"];
  for (let k = 0; k < 400; k++) {
    let s = "";
    const lines = 1 + Math.floor(r() * 5);
    for (let l = 0; l < lines; l++) {
      s += pick(r, ["", "  ", "    ", "\t", "        "]);
      for (let i = 0; i < 1 + Math.floor(r() * 7); i++) s += pick(r, CODE) + (r() < 0.6 ? " " : "");
      s += pick(r, ["\n", "\r\n", "\n\n", ""]);
    }
    out.push(s);
  }
  // random mixtures of everything
  for (let k = 0; k < 1000; k++) {
    let s = "";
    for (let i = 0; i < 1 + Math.floor(r() * 8); i++) {
      const x = r();
      if (x < 0.35) s += word(r, pick(r, SCRIPTS), 6);
      else if (x < 0.5) s += pick(r, WS);
      else if (x < 0.6) s += pick(r, EMOJI);
      else if (x < 0.7) s += digits(r, 1 + Math.floor(r() * 8));
      else if (x < 0.8) s += pick(r, [".", ",", "!", "?", "'", "\"", "(", ")", "-", "_", "/", "\\", "*", "<", ">", "|"]);
      else if (x < 0.85) s += pick(r, SPECIALS);
      else if (x < 0.9) s += String.fromCodePoint(pick(r, COMBINING));
      else s += pick(r, ["the", "The", "THE", " the", "don't", "I'll"]);
    }
    out.push(s);
  }
  // longer texts: paragraphs, and long words without spaces
  for (let k = 0; k < 40; k++) {
    let s = "";
    for (let i = 0; i < 100 + Math.floor(r() * 300); i++) s += (i ? pick(r, [" ", " ", " ", "\n", ", ", ". "]) : "") + word(r, pick(r, SCRIPTS.slice(0, 12)), 10);
    out.push(s);
  }
  for (let k = 0; k < 20; k++) {
    const sc = pick(r, SCRIPTS);
    let s = "";
    for (let i = 0; i < 500 + Math.floor(r() * 3000); i++) s += r() < 0.9 ? randCp(r, sc[1], sc[2]) : pick(r, ["a", "b", "1", "-"]);
    out.push(s);
  }
  out.push("a".repeat(5000), "ab".repeat(3000), "\n".repeat(300), " ".repeat(1000), "1".repeat(2000), "😀".repeat(500));
  return out;
}
