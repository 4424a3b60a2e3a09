#!/bin/sh
# bench/classifier.sh -- parapet's classifier against the fastText peer, in one run on
# the same machine: the same data (../shared/data/train + data/classifier), the same
# split (parapet's id-hash split: fastText trains on everything parapet does not hold
# out as dev, i.e. parapet's train + calibration shares), the peer's own command
# (../shared/peers/README.md).  Prints AUPRC per category and for the overall unsafe
# label on the dev split, prediction throughput on one core, training time and model
# size, with ratios.
#
# fastText cannot mask unknown labels, so it gets two models: the peer's binary
# unsafe model (records with a known unsafe label), and the same command with
# -loss ova over the category labels (a record's positive labels; none = negative for
# all).  Each is scored on the dev records where that label is known, as parapet is.
# Needs fasttext (apt-get install fasttext) and python3.
set -e
cd "$(dirname "$0")/.."
B=${B:-build}
DATA=${DATA:-../shared/data/train}
OUT=bench/out/cls
[ -d "$DATA" ] || { echo "bench: $DATA not found"; exit 1; }
command -v fasttext >/dev/null || { echo "bench: fasttext missing (apt-get install fasttext)"; exit 1; }
mkdir -p $OUT
[ -x $B/parapet ] || make -j2 all
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -o bench/out/cls_bench bench/cls_bench.c $B/libparapet.a \
   $(pkg-config --libs libutf8proc yaml-0.1 jansson libpcre2-8 2>/dev/null || echo -lutf8proc -lyaml -ljansson -lpcre2-8) -lpthread -lm
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

# 1. Files for fastText, split exactly as parapet splits (data.c: FNV-1a of the id).
python3 - "$OUT" "$DATA" data/classifier <<'EOF'
import json, os, re, sys
out, dirs = sys.argv[1], sys.argv[2:]
M = (1 << 64) - 1
def fnv(b):
    # core.h's pp_fnv1a as it is: its offset basis is 1469598103934665603, not the
    # standard FNV-1a 14695981039346656037 (0xcbf29ce484222325).  The split must use
    # the very same value or fastText trains on parapet's dev records (as it did
    # before this was fixed: the earlier comparisons scored the two on different sets).
    h = 1469598103934665603
    for c in b: h = ((h ^ c) * 0x100000001b3) & M
    return h
def split(h):
    h ^= h >> 31; h = (h * 0x7fb5d329728ea185) & M; h ^= h >> 27
    u = (h % 1000003) / 1000003.0
    return 2 if u < 0.1 else 1 if u < 0.2 else 0
CATS = ["harassment", "hate", "sexual", "violence", "self-harm", "illicit", "spam", "jailbreak"]
clean = lambda t: re.sub(r"\s+", " ", t).strip()
tu, tc, dev = [open(os.path.join(out, f), "w") for f in ("train_unsafe.txt", "train_cats.txt", "dev.jsonl")]
devtxt = open(os.path.join(out, "dev.txt"), "w")
for d in dirs:
    for fn in sorted(f for f in os.listdir(d) if f.endswith(".jsonl")):
        for line in open(os.path.join(d, fn), encoding="utf-8"):
            try: r = json.loads(line)
            except ValueError: continue
            t, lab = r.get("text"), r.get("labels", {})
            if not isinstance(t, str): continue
            key = r["id"].encode() if isinstance(r.get("id"), str) else t.encode()
            s, t = split(fnv(key)), clean(t)
            if s == 2:
                dev.write(json.dumps({"labels": lab}) + "\n"); devtxt.write(t + "\n")
                continue
            if "unsafe" in lab: tu.write("__label__%d %s\n" % (lab["unsafe"], t))
            pos = [c for c in CATS if lab.get(c) == 1]
            tc.write("%s %s\n" % (" ".join("__label__" + c for c in pos) or "__label__none", t))
for f in (tu, tc, dev, devtxt): f.close()
EOF

# 2. Train the peer (its command; the category model adds -loss ova) and time it.
FT="-wordNgrams 2 -minn 3 -maxn 5 -dim 50 -epoch 10 -lr 0.5 -thread 2 -bucket 2000000"
# REUSE_FT=1 keeps the fastText models of an earlier run (same split) and its timings.
if [ "${REUSE_FT:-0}" = 1 ] && [ -f $OUT/ft_unsafe.bin ] && [ -f $OUT/ft_cats.bin ] && [ -f $OUT/ft_times ]; then
  read t0 t1 t2 < $OUT/ft_times
else
  t0=$(date +%s.%N); fasttext supervised -input $OUT/train_unsafe.txt -output $OUT/ft_unsafe $FT -verbose 0
  t1=$(date +%s.%N); fasttext supervised -input $OUT/train_cats.txt -output $OUT/ft_cats $FT -loss ova -verbose 0
  t2=$(date +%s.%N)
  echo "$t0 $t1 $t2" > $OUT/ft_times
fi
# parapet: the shipped recipe (make model) into a scratch file.
tp=$(date +%s.%N)
$B/parapet train --data $DATA data/classifier --out $OUT/parapet.ppm --seed 1 --epochs 10 --threads 2 \
  --hash-bits 15 --char-ngrams 2-5 --policy-fpr 0.001 --min-pos 60 --no-emit profanity --assume advbench:jailbreak=0 \
  --assume jailbreak_llms_forbidden_questions:jailbreak=0 --quiet
t3=$(date +%s.%N)

# 3. Predict: fastText on the dev texts (one process, one core), parapet the same texts.
p0=$(date +%s.%N); fasttext predict-prob $OUT/ft_unsafe.bin $OUT/dev.txt 2 > $OUT/ft_unsafe.pred
p1=$(date +%s.%N); fasttext predict-prob $OUT/ft_cats.bin $OUT/dev.txt -1 > $OUT/ft_cats.pred
p2=$(date +%s.%N)
bench/out/cls_bench --model $OUT/parapet.ppm $OUT/dev.txt 3 > $OUT/parapet_speed.json
$B/parapet eval --data $DATA data/classifier --model $OUT/parapet.ppm --split dev --json > $OUT/parapet_eval.json

# 4. Metrics and ratios.
python3 - "$OUT" "$t0" "$t1" "$t2" "$tp" "$t3" "$p0" "$p1" "$p2" <<'EOF'
import json, os, sys
out = sys.argv[1]
t0, t1, t2, tp, t3, p0, p1, p2 = map(float, sys.argv[2:])
labs = [json.loads(l)["labels"] for l in open(os.path.join(out, "dev.jsonl"))]
def probs(path):
    res = []
    for line in open(path):
        tok, d = line.split(), {}
        for i in range(0, len(tok) - 1, 2): d[tok[i][9:]] = float(tok[i + 1])
        res.append(d)
    return res
pu, pc = probs(os.path.join(out, "ft_unsafe.pred")), probs(os.path.join(out, "ft_cats.pred"))
def auprc(sc, y):
    # parapet's definition (metrics.c): step-wise average precision over tie groups
    n_pos = sum(y)
    if not n_pos: return float("nan")
    pairs = sorted(zip(sc, y), key=lambda p: -p[0])
    ap = prev = 0.0; tp = fp = 0; i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            tp += pairs[j][1]; fp += 1 - pairs[j][1]; j += 1
        r = tp / n_pos; ap += (r - prev) * tp / (tp + fp); prev = r; i = j
    return ap
pe = json.load(open(os.path.join(out, "parapet_eval.json")))["labels"]
print("%-11s %6s %6s %9s %9s %7s" % ("label", "n", "pos", "parapet", "fastText", "ratio"))
worst = 9
for lab in ["harassment", "hate", "sexual", "violence", "self-harm", "illicit", "spam", "jailbreak", "unsafe"]:
    idx = [i for i, l in enumerate(labs) if lab in l]
    y = [labs[i][lab] for i in idx]
    src = pu if lab == "unsafe" else pc
    key = "1" if lab == "unsafe" else lab
    f = auprc([src[i].get(key, 0.0) for i in idx], y)
    p = pe[lab]["all"]["auprc"] if lab in pe else None
    if p is None or f != f: continue
    worst = min(worst, p / f)
    print("%-11s %6d %6d %9.3f %9.3f %6.2fx" % (lab, len(idx), sum(y), p, f, p / f))
sp = json.load(open(os.path.join(out, "parapet_speed.json")))
n = len(labs)
ftu, ftc = n / (p1 - p0), n / (p2 - p1)
ps = sp["with_normalize_docs_per_s"]
size = lambda f: os.path.getsize(os.path.join(out, f))
fsz = size("ft_unsafe.bin") + size("ft_cats.bin")
print("worst AUPRC ratio (parapet / fastText): %.2fx" % worst)
print("prediction, texts/s on one core: parapet %.0f (normalization included; %.0f classifier alone), "
      "fastText %.0f (unsafe model) / %.0f (category model); ratio %.1fx / %.1fx"
      % (ps, sp["docs_per_s"], ftu, ftc, ps / ftu, ps / ftc))
print("training: parapet %.1f s (all labels, 2 threads), fastText %.1f s (unsafe) + %.1f s (categories); ratio %.1fx"
      % (t3 - tp, t1 - t0, t2 - t1, (t2 - t0) / (t3 - tp)))
print("model size: parapet %d bytes, fastText %d + %d bytes; ratio %.0fx smaller"
      % (size("parapet.ppm"), size("ft_unsafe.bin"), size("ft_cats.bin"), fsz / size("parapet.ppm")))
EOF
