/*
** guard.c -- the guard engine (guard.h): prefix cache, candidate rows, probabilities.
**
** Sits between the prompt and scoring definitions (prompt.c, scoring.c) and the
** forward pass (parapet_llm, src/llm).  The engine keeps, per judged role, the
** categories, the scoring definition and the token ids of the prefix; the KV cache
** holds the resident role's prefix in positions [0, n_prefix) at all times between
** requests, so a request evaluates only its conversation, suffix and forced tokens.
**
** Assumptions: pp_guard_encode returns prefix tokens identical to the cached ones
** (prompt.h cuts the prompt where tokenizers always split; checked per request, and a
** mismatch re-prefills rather than scoring on a wrong cache).  Every multi-token
** alternative is scored by its first token (pp_guard_probs_from_cand): the shortcut
** scoring.h documents, exact for Llama Guard's single-token answers.
*/
#include "core/core.h"
#include "guard/guard.h"
#include "llm/gguf.h"
#include "llm/model.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct role_state {
    int built;
    pp_guard_cat own[PP_GUARD_MAX_CATS]; /* native + custom, when combined */
    size_t n_native;            /* leading native categories */
    const pp_guard_cat *cats;   /* native (static) or g->own_cats */
    size_t n_cats;
    pp_guard_scoring *sc;
    int32_t *prefix;            /* token ids of the prefix */
    size_t n_prefix;
} role_state;

/* A request waiting in the queue or running in a batch. */
typedef struct request {
    const pp_guard_msg *msgs;
    size_t n;
    pp_guard_result *out;
    char **detail;
    pp_status st;
    pp_guard_role role;
    int done;
    struct request *next;
} request;

struct pp_guard {
    pthread_mutex_t mu;         /* the queue, and who runs the model */
    pthread_cond_t cv;          /* a batch finished */
    request *head, *tail;       /* FIFO of waiting requests */
    int busy;                   /* a thread is running a batch */
    size_t max_batch;
    uint64_t n_batches, n_batched; /* batches run, requests they held */
    size_t max_seen;            /* the largest batch */
    pp_llm_model *model;
    pp_llm_ctx *ctx;            /* sequence 0: the resident prefix; 1..: requests */
    parapet_tokenizer *tok;
    pp_guard_family family;
    int native;                 /* categories: 0 custom, 1 native, 2 native + custom */
    size_t n_native_llama;      /* 13 or 14 for Llama Guard */
    pp_guard_cat own_cats[PP_GUARD_MAX_CATS];
    size_t n_own;
    role_state role[2];
    int resident;               /* role whose prefix is in the cache, -1: none */
    char *warning;
};

void pp_guard_opts_init(pp_guard_opts *o) {
    memset(o, 0, sizeof *o);
    o->family = -1;
}

/* Reads the family, the layer count and the chat template check from the file's
** metadata.  Sets g->family, g->n_native_llama, g->warning. */
static pp_status read_meta(pp_guard *g, const char *path, int family, char **detail) {
    pp_gguf *f;
    pp_status st = pp_gguf_open_file(path, &f, detail);
    if (st) return st;
    const char *s;
    size_t n;
    char arch[32] = "";
    if (!pp_gguf_get_str(f, "general.architecture", &s, &n) && n < sizeof arch) {
        memcpy(arch, s, n);
        arch[n] = 0;
    }
    if (family < 0) family = pp_guard_family_from_arch(arch);
    if (family < 0 || family >= PP_GUARD_FAMILY_COUNT) {
        if (detail) *detail = pp_asprintf("%s: architecture \"%s\" is not a guard-model family "
                                          "(llama, gemma2, qwen3, granite)", path, arch);
        pp_gguf_close(f);
        return PARAPET_ERR_UNSUPPORTED;
    }
    g->family = (pp_guard_family)family;
    char key[64];
    uint32_t layers = 0;
    snprintf(key, sizeof key, "%s.block_count", arch);
    pp_gguf_get_u32(f, key, &layers);
    g->n_native_llama = layers && layers <= 16 ? 13 : 14; /* 1B knows S1..S13 */
    if (!pp_gguf_get_str(f, "tokenizer.chat_template", &s, &n)) {
        char *tpl = pp_strndup(s, n);
        const char *missing = NULL;
        if (tpl && !pp_guard_template_check(g->family, tpl, &missing))
            g->warning = pp_asprintf("the file's chat template differs from parapet's %s template "
                                     "(missing: \"%s\"); scores may be off",
                                     pp_guard_family_name(g->family), missing ? missing : "?");
        pp_free(tpl);
    }
    pp_gguf_close(f);
    return PARAPET_OK;
}

/* Builds (once) the categories, scoring definition and prefix ids of a role. */
static pp_status build_role(pp_guard *g, pp_guard_role role, char **detail) {
    role_state *r = &g->role[role];
    if (r->built) return PARAPET_OK;
    if (g->native) {
        const pp_guard_cat *nat;
        size_t n = pp_guard_native_cats(g->family, role, &nat);
        if (g->family == PP_GUARD_LLAMA_GUARD && n > g->n_native_llama) n = g->n_native_llama;
        r->cats = nat;
        r->n_cats = n;
        if (g->native == 2) {   /* native first, then the custom ones */
            if (n + g->n_own > PP_GUARD_MAX_CATS) return PARAPET_ERR_ARG;
            memcpy(r->own, nat, n * sizeof *nat);
            memcpy(r->own + n, g->own_cats, g->n_own * sizeof *g->own_cats);
            r->cats = r->own;
            r->n_cats = n + g->n_own;
        }
        r->n_native = n;
    } else {
        r->cats = g->own_cats;
        r->n_cats = g->n_own;
    }
    pp_status st = pp_guard_scoring_build(g->tok, g->family, role, r->cats, r->n_cats, &r->sc, detail);
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    if ((st = pp_guard_render_prefix(g->family, r->cats, r->n_cats, role, &text, &len))) return st;
    st = parapet_tokenizer_encode(g->tok, text, len, PARAPET_TOK_PARSE_SPECIAL, &r->prefix, &r->n_prefix);
    pp_free(text);
    if (st) return st;
    if (!r->n_prefix) return PARAPET_ERR_FORMAT;
    r->built = 1;
    return PARAPET_OK;
}

/* Makes role's prefix the resident one: positions [0, n_prefix) of sequence 0. */
static pp_status make_resident(pp_guard *g, pp_guard_role role, char **detail) {
    pp_status st = build_role(g, role, detail);
    if (st) return st;
    role_state *r = &g->role[role];
    if (g->resident == (int)role && pp_llm_ctx_n_past(g->ctx) >= r->n_prefix) {
        pp_llm_ctx_truncate(g->ctx, (uint32_t)r->n_prefix);
        return PARAPET_OK;
    }
    g->resident = -1;
    if (r->n_prefix >= pp_llm_ctx_n_ctx(g->ctx)) return PARAPET_ERR_TOO_LARGE;
    if ((st = pp_llm_ctx_eval(g->ctx, r->prefix, r->n_prefix, 0, 0))) return st;
    g->resident = (int)role;
    return PARAPET_OK;
}

pp_status pp_guard_open(const char *path, const pp_guard_opts *opt, pp_guard **out,
                        char **detail) {
    if (!path || !out) return PARAPET_ERR_ARG;
    *out = NULL;
    pp_guard_opts defaults;
    if (!opt) { pp_guard_opts_init(&defaults); opt = &defaults; }
    if (opt->n_cats > PP_GUARD_MAX_CATS || (opt->n_cats && !opt->cats)) return PARAPET_ERR_ARG;
    pp_guard *g = pp_calloc(1, sizeof *g);
    if (!g) return PARAPET_ERR_NOMEM;
    if (pthread_mutex_init(&g->mu, NULL)) { pp_free(g); return PARAPET_ERR_NOMEM; }
    if (pthread_cond_init(&g->cv, NULL)) {
        pthread_mutex_destroy(&g->mu);
        pp_free(g);
        return PARAPET_ERR_NOMEM;
    }
    g->resident = -1;
    g->max_batch = opt->max_batch ? PP_MIN(opt->max_batch, (size_t)PP_GUARD_MAX_BATCH) : 8;
    pp_status st = read_meta(g, path, opt->family, detail);
    if (st) goto fail;
    g->native = opt->n_cats == 0 ? 1 : opt->with_native ? 2 : 0;
    for (size_t i = 0; i < opt->n_cats; i++) {
        const pp_guard_cat *c = &opt->cats[i];
        if (!c->name || !c->name[0]) { st = PARAPET_ERR_ARG; goto fail; }
        g->own_cats[i].name = pp_strdup(c->name);
        g->own_cats[i].description = c->description && c->description[0] ? pp_strdup(c->description) : NULL;
        g->n_own = i + 1;
        if (!g->own_cats[i].name || (c->description && c->description[0] && !g->own_cats[i].description)) {
            st = PARAPET_ERR_NOMEM;
            goto fail;
        }
    }
    if ((st = parapet_tokenizer_open_gguf(path, &g->tok, detail))) goto fail;
    if ((st = pp_llm_model_load(path, &g->model, detail))) goto fail;
    int threads = opt->n_threads > 0 ? opt->n_threads : 1;
    pp_llm_model_pack(g->model, threads, 0);   /* _NOMEM: runs unpacked; rows only */
    pp_llm_ctx_params cp = {0};
    cp.n_ctx = opt->n_ctx ? opt->n_ctx : 4096;
    cp.n_threads = threads;
    cp.n_seq = (uint32_t)g->max_batch + 1;
    cp.n_ctx_seq = PP_MIN(cp.n_ctx, 1024u);
    if ((st = pp_llm_ctx_new(g->model, &cp, &g->ctx, detail))) goto fail;
    if ((st = make_resident(g, PP_GUARD_USER, detail))) goto fail;
    *out = g;
    return PARAPET_OK;
fail:
    pp_guard_close(g);
    return st;
}

void pp_guard_close(pp_guard *g) {
    if (!g) return;
    for (int r = 0; r < 2; r++) {
        pp_guard_scoring_free(g->role[r].sc);
        pp_free(g->role[r].prefix);
    }
    for (size_t i = 0; i < g->n_own; i++) {
        pp_free((char *)g->own_cats[i].name);
        pp_free((char *)g->own_cats[i].description);
    }
    pp_llm_ctx_free(g->ctx);
    pp_llm_model_free(g->model);
    if (g->tok) parapet_tokenizer_free(g->tok);
    pp_free(g->warning);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    pp_free(g);
}

/* ------------------------------------------------------------ one request ---- */

/* A request's scoring, run as a sequence of steps so that many requests advance
** together: each step ends with one item to evaluate for the request's sequence (the
** conversation and a pass's suffix, or a question's forced tokens), which the batch
** evaluates with every other request's item in one forward pass; the next step reads
** the candidate rows.  The logic per request is the one the scoring definition
** (scoring.h) describes:
**   per pass: evaluate conversation + suffix (pass 0) or the suffix alone (later passes
**   of ShieldGemma and Granite, after the shared conversation); ask the verdict; ask
**   the category question when the family has one (Llama Guard: "unsafe\nS" forced,
**   then the distribution over category numbers). */
enum { J_PASS, J_VERDICT, J_VERDICT_READ, J_CATEGORY, J_CATEGORY_READ, J_DONE };

typedef struct job {
    request *rq;
    const role_state *r;
    uint32_t seq;
    pp_guard_prompt pr;
    int have_pr;
    size_t pass;
    int state;
    int32_t *ids;               /* the current pass's ids */
    size_t n_ids, n_pre, n_conv;
    /* forced tokens in the sequence after the pass's suffix end (base) */
    uint32_t base;
    int32_t fids[PP_GUARD_FORCE_MAX];
    size_t nf;
    int32_t last_tok;           /* the suffix's last token */
    double pv, pc;              /* the current pass's verdict */
    pp_llm_item item;           /* set when a step ends with an evaluation */
    int solo;                   /* too long for its sequence: rerun in sequence 0 */
} job;

/* Prepares the evaluation question q needs (its forced tokens after the suffix, reusing
** what is cached).  Returns 1 with j->item set, or 0 if the rows can be read at once. */
static int ask_prepare(job *j, const pp_guard_question *q) {
    size_t common = 0;
    while (common < q->n_force && common < j->nf && q->force[common] == j->fids[common]) common++;
    if (common == q->n_force && j->nf == q->n_force) return 0;
    if (q->n_force == 0) {   /* back to the end of the suffix: its last position again */
        j->item = (pp_llm_item){j->seq, &j->last_tok, 1, j->base - 1};
    } else {
        if (common == q->n_force) common--;   /* re-evaluate the last forced token */
        j->item = (pp_llm_item){j->seq, q->force + common, (uint32_t)(q->n_force - common),
                                j->base + (uint32_t)common};
    }
    memcpy(j->fids, q->force, q->n_force * sizeof *q->force);
    j->nf = q->n_force;
    j->rq->out->n_eval += j->item.n;
    return 1;
}

/* Reads q's candidate rows of the request's sequence into probabilities p. */
static pp_status ask_read(pp_guard *g, job *j, const pp_guard_question *q, double *p) {
    float logit[PP_GUARD_MAX_CATS * PP_GUARD_ALT_MAX];
    pp_status st = pp_llm_ctx_seq_logits_rows(g->ctx, j->seq, q->cand, q->n_cand, logit);
    if (!st) pp_guard_probs_from_cand(q, logit, p);
    return st;
}

static void job_fail(job *j, pp_status st) {
    if (!j->rq->st) j->rq->st = st;
    j->state = J_DONE;
}

/* Advances the request until it needs an evaluation (returns 1, j->item set) or is
** finished (returns 0; j->rq->st holds the outcome). */
static int job_step(pp_guard *g, job *j) {
    const pp_guard_scoring *sc = j->r->sc;
    pp_guard_result *out = j->rq->out;
    double p[PP_GUARD_MAX_CATS + 2];
    pp_status st;
    for (;;) {
        switch (j->state) {
        case J_PASS: {
            if (j->pass == j->pr.n_suffix) { j->state = J_DONE; continue; }
            pp_free(j->ids);
            j->ids = NULL;
            st = pp_guard_encode(g->tok, &j->pr, j->pass, &j->ids, &j->n_ids, &j->n_pre, &j->n_conv);
            if (st) { job_fail(j, st); continue; }
            if (j->n_pre != j->r->n_prefix || memcmp(j->ids, j->r->prefix, j->n_pre * sizeof *j->ids)) {
                /* cannot happen with prompt.c's cut points; never score on a wrong cache */
                if (j->rq->detail && !*j->rq->detail)
                    *j->rq->detail = pp_strdup("guard: the prompt's prefix tokens differ from the cached prefix");
                job_fail(j, PARAPET_ERR_FORMAT);
                continue;
            }
            if (j->n_ids <= j->n_pre) { job_fail(j, PARAPET_ERR_FORMAT); continue; }
            uint32_t n_ctx = pp_llm_ctx_n_ctx(g->ctx);
            if (j->n_ids + PP_GUARD_FORCE_MAX >= n_ctx) { job_fail(j, PARAPET_ERR_TOO_LARGE); continue; }
            if (j->seq && j->n_ids + PP_GUARD_FORCE_MAX - j->n_pre >= pp_llm_ctx_seq_cap(g->ctx, j->seq)) {
                j->solo = 1;   /* longer than a request sequence holds: alone, after the batch */
                j->state = J_DONE;
                continue;
            }
            /* pass 0 evaluates conversation + suffix; later passes only their suffix */
            size_t from = j->pass == 0 ? j->n_pre : j->n_pre + j->n_conv;
            if (from >= j->n_ids) from = j->n_ids - 1;
            j->item = (pp_llm_item){j->seq, j->ids + from, (uint32_t)(j->n_ids - from), (uint32_t)from};
            out->n_eval += j->item.n;
            j->base = (uint32_t)j->n_ids;
            j->nf = 0;
            j->last_tok = j->ids[j->n_ids - 1];
            j->state = J_VERDICT;
            return 1;
        }
        case J_VERDICT:
            j->state = J_VERDICT_READ;
            if (ask_prepare(j, &sc->verdict)) return 1;
            continue;
        case J_VERDICT_READ:
            if ((st = ask_read(g, j, &sc->verdict, p))) { job_fail(j, st); continue; }
            j->pv = sc->violation >= 0 ? p[sc->violation] : 0;
            j->pc = sc->controversial >= 0 ? p[sc->controversial] : 0;
            if (!sc->has_category) {
                /* one pass per category (ShieldGemma, Granite): P(Yes) of this principle */
                if (j->pass < j->r->n_cats) out->p_cat[j->pass] = j->pv;
                if (j->pv > out->p_violation) out->p_violation = j->pv;
                j->pass++;
                j->state = J_PASS;
                continue;
            }
            out->p_violation = j->pv;
            out->p_controversial = j->pc;
            j->state = J_CATEGORY;
            continue;
        case J_CATEGORY:
            j->state = J_CATEGORY_READ;
            if (ask_prepare(j, &sc->category)) return 1;
            continue;
        case J_CATEGORY_READ: {
            if ((st = ask_read(g, j, &sc->category, p))) { job_fail(j, st); continue; }
            double mass = j->pv + j->pc;  /* Qwen3Guard lists categories for Controversial too */
            for (size_t o = 0; o < sc->category.n_out; o++) {
                int c = sc->category.out[o].cat;
                if (c >= 0 && (size_t)c < j->r->n_cats) out->p_cat[c] += mass * p[o];
            }
            j->pass++;
            j->state = J_PASS;
            continue;
        }
        default:
            return 0;
        }
    }
}

/* Sets up job j for request rq in sequence seq (0: after the resident prefix). */
static void job_start(pp_guard *g, job *j, request *rq, uint32_t seq) {
    memset(j, 0, sizeof *j);
    j->rq = rq;
    j->r = &g->role[rq->role];
    j->seq = seq;
    j->state = J_DONE;
    memset(rq->out, 0, sizeof *rq->out);
    rq->out->n_cats = j->r->n_cats;
    rq->out->n_prefix = (uint32_t)j->r->n_prefix;
    pp_status st = pp_guard_render(g->family, j->r->cats, j->r->n_cats, rq->msgs, rq->n, &j->pr,
                                   rq->detail);
    if (st) { job_fail(j, st); return; }
    j->have_pr = 1;
    if (seq) pp_llm_ctx_seq_share(g->ctx, seq, (uint32_t)j->r->n_prefix);
    j->state = J_PASS;
}

static void job_end(pp_guard *g, job *j) {
    pp_free(j->ids);
    j->ids = NULL;
    if (j->have_pr) pp_guard_prompt_free(&j->pr);
    j->have_pr = 0;
    if (j->seq) pp_llm_ctx_seq_truncate(g->ctx, j->seq, 0);
    else pp_llm_ctx_truncate(g->ctx, (uint32_t)j->r->n_prefix);
}

/* Runs jobs[0..n) to the end: every round evaluates one item per unfinished job in one
** forward pass. */
static void run_jobs(pp_guard *g, job *jobs, size_t n) {
    pp_llm_item items[PP_GUARD_MAX_BATCH];
    job *owner[PP_GUARD_MAX_BATCH];
    for (;;) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].state != J_DONE && job_step(g, &jobs[i])) {
                items[k] = jobs[i].item;
                owner[k++] = &jobs[i];
            }
        if (!k) break;
        pp_status st = pp_llm_ctx_eval_batch(g->ctx, items, k);
        if (st)
            for (size_t i = 0; i < k; i++) job_fail(owner[i], st);
    }
}

/* Scores the requests rq[0..n) (one judged role) together: each gets a sequence sharing
** the resident prefix.  A request too long for its sequence runs afterwards, alone, in
** sequence 0 after the prefix.  Runs without the queue lock, by the one busy thread. */
static void run_batch(pp_guard *g, request **rq, size_t n) {
    job jobs[PP_GUARD_MAX_BATCH];
    pp_status st = make_resident(g, rq[0]->role, rq[0]->detail);
    if (st) {
        for (size_t i = 0; i < n; i++) rq[i]->st = st;
        return;
    }
    for (size_t i = 0; i < n; i++) job_start(g, &jobs[i], rq[i], (uint32_t)i + 1);
    run_jobs(g, jobs, n);
    for (size_t i = 0; i < n; i++) {
        job_end(g, &jobs[i]);
        if (!jobs[i].solo) continue;
        job solo;
        job_start(g, &solo, rq[i], 0);
        run_jobs(g, &solo, 1);
        job_end(g, &solo);
    }
}

/* Queues reqs[0..n) and waits until all are scored, running batches whenever the
** model is free (see guard.h). */
static void score_queued(pp_guard *g, request *reqs, size_t n) {
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < n; i++) {
        if (g->tail) g->tail->next = &reqs[i];
        else g->head = &reqs[i];
        g->tail = &reqs[i];
    }
    for (size_t i = 0; i < n; i++)
        while (!reqs[i].done) {
            if (g->busy) {
                pthread_cond_wait(&g->cv, &g->mu);
                continue;
            }
            /* this thread runs the next batch: the oldest request's role, FIFO, up to
            ** max_batch requests */
            request *batch[PP_GUARD_MAX_BATCH], **link = &g->head, *prev = NULL;
            size_t k = 0;
            pp_guard_role role = g->head->role;
            while (*link && k < g->max_batch) {
                request *r = *link;
                if (r->role != role) { prev = r; link = &r->next; continue; }
                *link = r->next;
                if (g->tail == r) g->tail = prev;
                batch[k++] = r;
            }
            g->busy = 1;
            g->n_batches++;
            g->n_batched += k;
            if (k > g->max_seen) g->max_seen = k;
            pthread_mutex_unlock(&g->mu);
            run_batch(g, batch, k);
            pthread_mutex_lock(&g->mu);
            for (size_t b = 0; b < k; b++) batch[b]->done = 1;
            g->busy = 0;
            pthread_cond_broadcast(&g->cv);
        }
    pthread_mutex_unlock(&g->mu);
}

static void request_init(request *r, const pp_guard_msg *msgs, size_t n, pp_guard_result *out,
                         char **detail) {
    memset(out, 0, sizeof *out);
    *r = (request){msgs, n, out, detail, PARAPET_OK,
                   msgs[n - 1].role == PP_GUARD_AGENT ? PP_GUARD_AGENT : PP_GUARD_USER, 0, NULL};
}

static void request_finish(request *r, uint64_t t0) {
    pp_guard_result *out = r->out;
    for (size_t i = 0; i < out->n_cats; i++)
        if (out->p_cat[i] > 1) out->p_cat[i] = 1;
    out->ms = (double)(pp_now_ns() - t0) / 1e6;
}

pp_status pp_guard_score(pp_guard *g, const pp_guard_msg *msgs, size_t n,
                         pp_guard_result *out, char **detail) {
    if (!g || !msgs || !n || !out) return PARAPET_ERR_ARG;
    uint64_t t0 = pp_now_ns();
    request me;
    request_init(&me, msgs, n, out, detail);
    score_queued(g, &me, 1);
    request_finish(&me, t0);
    return me.st;
}

pp_status pp_guard_score_many(pp_guard *g, pp_guard_req *reqs, size_t n) {
    if (!g || (n && !reqs)) return PARAPET_ERR_ARG;
    uint64_t t0 = pp_now_ns();
    pp_status first = PARAPET_OK;
    for (size_t done = 0; done < n;) {
        request rq[PP_GUARD_MAX_BATCH];
        size_t k = 0;
        for (; done + k < n && k < PP_GUARD_MAX_BATCH; k++) {
            pp_guard_req *q = &reqs[done + k];
            if (!q->msgs || !q->n_msgs || !q->out) return PARAPET_ERR_ARG;
            request_init(&rq[k], q->msgs, q->n_msgs, q->out, q->detail);
        }
        score_queued(g, rq, k);
        for (size_t i = 0; i < k; i++) {
            request_finish(&rq[i], t0);
            reqs[done + i].st = rq[i].st;
            if (rq[i].st && !first) first = rq[i].st;
        }
        done += k;
    }
    return first;
}

void pp_guard_stats(pp_guard *g, uint64_t *batches, uint64_t *requests, size_t *max_batch) {
    pthread_mutex_lock(&g->mu);
    if (batches) *batches = g->n_batches;
    if (requests) *requests = g->n_batched;
    if (max_batch) *max_batch = g->max_seen;
    pthread_mutex_unlock(&g->mu);
}

pp_status pp_guard_score_text(pp_guard *g, const char *text, size_t len,
                              pp_guard_result *out, char **detail) {
    pp_guard_msg m = {PP_GUARD_USER, text ? text : "", text ? len : 0};
    return pp_guard_score(g, &m, 1, out, detail);
}

pp_guard_family pp_guard_family_of(const pp_guard *g) { return g->family; }
size_t pp_guard_cat_count(const pp_guard *g) { return g->role[PP_GUARD_USER].n_cats; }
const pp_guard_cat *pp_guard_cat_at(const pp_guard *g, size_t i) {
    return i < g->role[PP_GUARD_USER].n_cats ? &g->role[PP_GUARD_USER].cats[i] : NULL;
}
size_t pp_guard_native_count(const pp_guard *g) { return g->role[PP_GUARD_USER].n_native; }
size_t pp_guard_prefix_tokens(const pp_guard *g) { return g->role[PP_GUARD_USER].n_prefix; }
const char *pp_guard_warning(const pp_guard *g) { return g->warning; }
const parapet_tokenizer *pp_guard_tokenizer(const pp_guard *g) { return g->tok; }

pp_status pp_guard_file_sha256(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? PARAPET_ERR_NOT_FOUND : PARAPET_ERR_IO;
    unsigned char *buf = pp_malloc(1 << 20);
    if (!buf) { fclose(f); return PARAPET_ERR_NOMEM; }
    pp_sha256 s;
    pp_sha256_init(&s);
    size_t n;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) pp_sha256_update(&s, buf, n);
    int err = ferror(f);
    fclose(f);
    pp_free(buf);
    if (err) return PARAPET_ERR_IO;
    pp_sha256_final_hex(&s, hex);
    return PARAPET_OK;
}
