/* `clgraph tune`: measures, on the seed models' own shapes, which parameters of CLBlast's direct
 * GEMM kernel run each GEMM shape fastest, which convolution algorithm is faster for each conv2d
 * shape and pass, how many columns an im2col work-item should copy, and the work-group size of
 * the 1-D element-wise launches; then writes the device's tuning file (tuning.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "device/device_internal.h"

/* The measured configurations of the convolutions. */
enum { DIRECT, IM2COL_ROW, IM2COL_ONE, CONFIGS };
/* Rounds of measurement where choices are close: every candidate once a round, each keeping its
 * fastest, so that the CPU's drift over seconds (other load, the host) falls on all of them. */
enum { ROUNDS = 3 };

typedef struct shape_time {
    uint32_t key[11];
    double us[CONFIGS][2]; /* forward, backward */
} shape_time;

/* Candidate parameters of CLBlast's direct GEMM (cg__gemm_param_names order: KWID MDIMAD MDIMCD
 * NDIMBD NDIMCD PADA PADB VWMD VWND WGD): CLBlast's generic default first, then 16 x 16
 * work-groups with 2- and 4-wide vectors (for GPUs), and 4 x 4 and 8 x 8 work-groups with 4- and
 * 8-wide vectors (on PoCL these won most shapes: GEMMs 1.9x faster in total). */
static const size_t gemm_candidates[][CG__GEMM_PARAMS] = {
    {2, 8, 8, 8, 8, 1, 1, 1, 1, 32},     {2, 8, 8, 8, 8, 1, 1, 2, 2, 32},
    {2, 16, 16, 16, 16, 1, 1, 2, 2, 32}, {2, 16, 16, 16, 16, 1, 1, 4, 4, 64},
    {2, 4, 4, 4, 4, 0, 0, 4, 4, 16},     {2, 4, 4, 4, 4, 0, 0, 8, 8, 32},
    {2, 8, 8, 8, 8, 0, 0, 8, 8, 64},     {8, 8, 8, 8, 8, 1, 1, 4, 4, 32},
    {4, 8, 8, 8, 8, 0, 0, 2, 2, 16},
};
#define GEMM_CANDIDATES ((int)CG__ARRAY_LEN(gemm_candidates))

typedef struct gemm_time {
    uint32_t key[5];
    double us[GEMM_CANDIDATES + 1]; /* [0] CLBlast's own choice, [1 + c] candidate c */
} gemm_time;

typedef struct tally {
    shape_time shapes[CG__MAX_TUNED_CONV];
    int n_shapes;
    gemm_time gemms[CG__MAX_TUNED_GEMM];
    int n_gemms;
    double im2col_us[CONFIGS]; /* the im2col launches alone */
    double other_us;           /* launches that are neither GEMM nor convolution */
} tally;

/* The entry whose key (at the start of each entry) is key, among n entries of `size` bytes; a
 * new, zeroed one when there is none and room for it; else NULL. */
static void *entry_of(void *entries, int *n, int cap, size_t size, const void *key,
                      size_t key_size) {
    char *e = entries;
    for (int i = 0; i < *n; i++)
        if (memcmp(e + (size_t)i * size, key, key_size) == 0) return e + (size_t)i * size;
    if (*n == cap) return NULL;
    char *fresh = e + (size_t)(*n)++ * size;
    memset(fresh, 0, size);
    memcpy(fresh, key, key_size);
    return fresh;
}

/* Profiles one model (built once for the whole tuning: the algorithms, GEMM parameters and
 * work-group sizes are chosen at each launch) under the context's current forcing, after a
 * warm-up step in it; adds its launches to t: convolutions under configuration cfg (-1: not),
 * GEMMs under slot gslot (-1: not), and the rest to the element-wise total. */
static cg_status measure(cg_bench_model *m, int cfg, int gslot, int repeats, tally *t) {
    double ms;
    cg_status st = cg_bench_model_time(m, 1, 1, &ms);
    /* Notes (shape keys) ride on the profiler's records, not on cg_bench_launch: profile here. */
    cg__profiler p = {0};
    for (int r = 0; st == CG_OK && r < repeats; r++) {
        st = cg_bench_model_step_recorded(m, &p);
        for (size_t k = 0; st == CG_OK && k < p.n; k++) {
            const cg__launch_record *rec = &p.rec[k];
            double us = cg__profile_event_us(rec->event) / repeats;
            gemm_time *g = rec->is_gemm && gslot >= 0
                               ? entry_of(t->gemms, &t->n_gemms, CG__MAX_TUNED_GEMM,
                                          sizeof *g, rec->gemm, sizeof rec->gemm)
                               : NULL;
            if (g) g->us[gslot] += us;
            if (rec->has_note) {
                shape_time *s = cfg >= 0 ? entry_of(t->shapes, &t->n_shapes, CG__MAX_TUNED_CONV,
                                                    sizeof *s, rec->note, sizeof rec->note)
                                           : NULL;
                if (s) s->us[cfg][strstr(rec->label, " backward") ? 1 : 0] += us;
                if (cfg >= 0 && strncmp(rec->kernel, "im2col", 6) == 0) /* or im2col_rows */
                    t->im2col_us[cfg] += us;
            } else if (strcmp(rec->kernel, "clblast_sgemm") != 0) {
                t->other_us += us;
            }
        }
        cg__profile_clear(&p);
    }
    cg__profile_free(&p);
    return st;
}

/* Into t, configuration cfg's times of one round (r): each shape's and pass's, and the im2col
 * launches', where they are the first or faster than t's. */
static void keep_fastest(tally *t, const tally *r, int cfg, bool first) {
    for (int i = 0; i < r->n_shapes; i++) {
        const shape_time *m = &r->shapes[i];
        shape_time *s = entry_of(t->shapes, &t->n_shapes, CG__MAX_TUNED_CONV, sizeof *s, m->key,
                                 sizeof m->key);
        for (int pass = 0; s && pass < 2; pass++)
            if (first || m->us[cfg][pass] < s->us[cfg][pass])
                s->us[cfg][pass] = m->us[cfg][pass];
    }
    if (first || r->im2col_us[cfg] < t->im2col_us[cfg])
        t->im2col_us[cfg] = r->im2col_us[cfg];
}

/* GEMM: CLBlast's own parameters first (before anything overrides them), then each candidate;
 * every shape keeps its fastest, when that beats CLBlast's own in total. The choice is left in
 * ctx->tuning (and so applied) for what is measured next. */
static cg_status tune_gemm(cg_context *ctx, cg_bench_model **models, int n_models, int repeats,
                           FILE *progress, tally *t) {
    cg__tuning *tu = &ctx->tuning;
    tu->force_conv = CG_CONV_IM2COL; /* so that the convolutions' GEMMs are measured too */
    tu->force_chunk = -1;
    cg_status st = CG_OK;
    for (int c = -1; st == CG_OK && c < GEMM_CANDIDATES; c++) {
        if (c >= 0 && !cg__gemm_params_valid(gemm_candidates[c])) continue;
        tu->force_gemm = c >= 0 ? gemm_candidates[c] : NULL;
        if (progress) {
            fprintf(progress, "  GEMM %s", c < 0 ? "as CLBlast chooses" : "with");
            for (int k = 0; c >= 0 && k < CG__GEMM_PARAMS; k++)
                fprintf(progress, " %s=%zu", cg__gemm_param_names[k], gemm_candidates[c][k]);
            fprintf(progress, "\n");
            fflush(progress);
        }
        for (int i = 0; st == CG_OK && i < n_models; i++)
            st = measure(models[i], -1, c + 1, repeats, t);
    }
    tu->force_gemm = NULL;
    tu->force_conv = 0;
    tu->force_chunk = 0;
    if (st != CG_OK) return st;
    double own = 0, tuned = 0, per_candidate[GEMM_CANDIDATES] = {0};
    int best_overall = 0;
    tu->n_gemm = 0;
    for (int i = 0; i < t->n_gemms; i++) {
        const gemm_time *g = &t->gemms[i];
        int best = 0;
        for (int c = 0; c < GEMM_CANDIDATES; c++) {
            per_candidate[c] += g->us[1 + c];
            if (g->us[1 + c] > 0 && (g->us[1 + best] <= 0 || g->us[1 + c] < g->us[1 + best]))
                best = c;
        }
        own += g->us[0];
        tuned += g->us[1 + best];
        cg__gemm_tune *e = &tu->gemm[tu->n_gemm++];
        memcpy(e->key, g->key, sizeof e->key);
        memcpy(e->params, gemm_candidates[best], sizeof e->params);
    }
    for (int c = 0; c < GEMM_CANDIDATES; c++)
        if (per_candidate[c] > 0 && per_candidate[c] < per_candidate[best_overall]) best_overall = c;
    memcpy(tu->gemm_default, gemm_candidates[best_overall], sizeof tu->gemm_default);
    tu->has_gemm_default = true;
    bool keep = tuned < own;
    if (!keep) { /* CLBlast's own were better: the file keeps none */
        tu->n_gemm = 0;
        tu->has_gemm_default = false;
        /* CLBlast cannot be given its own back in this process: measure the rest with the
         * closest candidate. */
        tu->force_gemm = gemm_candidates[best_overall];
    }
    if (progress)
        fprintf(progress, "\nGEMM: %d shapes, %.0f us with CLBlast's parameters, %.0f us with the "
                          "fastest per shape: %s\n",
                t->n_gemms, own, tuned, keep ? "tuned per shape" : "CLBlast's kept");
    return CG_OK;
}

cg_status cg_bench_tune(cg_context *ctx, char (*files)[1024], int n_files, const int *batches,
                        int n_batches, int repeats, FILE *progress) {
    static tally t;
    memset(&t, 0, sizeof t);
    cg__tuning *tu = &ctx->tuning;
    /* Convolution shapes that runs measured (autotune) and these models do not have are kept. */
    static cg__conv_tune earlier[CG__MAX_TUNED_CONV];
    int n_earlier = tu->state == CG_TUNING_LOADED || tu->state == CG_TUNING_FROM_RUNS ? tu->n_conv
                                                                                       : 0;
    memcpy(earlier, tu->conv, (size_t)n_earlier * sizeof *earlier);
    const bool autotune = ctx->autotune;
    ctx->autotune = false; /* everything is measured here, under the forcings below */
    memset(tu, 0, sizeof *tu); /* measure from the defaults, not from an earlier tuning */
    snprintf(tu->note, sizeof tu->note, "being tuned");
    const size_t default_local = cg__builtin_local(&ctx->info);
    ctx->default_local = default_local; /* not an earlier tuning's */
    static const char *const names[CONFIGS] = {"direct", "im2col, a row per work-item",
                                               "im2col, a column per work-item"};
    /* Every model at every batch, built once: model f at batch b is models[f * n_batches + b]. */
    const int n_models = n_files * n_batches;
    cg_bench_model **models = calloc((size_t)n_models, sizeof *models);
    cg_status st = models ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the models");
    for (int i = 0; st == CG_OK && i < n_models; i++)
        st = cg_bench_model_open(ctx, files[i / n_batches], batches[i % n_batches], &models[i]);
    if (st == CG_OK && !ctx->gemm_own)
        st = tune_gemm(ctx, models, n_models, repeats, progress, &t);
    else if (st == CG_OK && progress)
        fprintf(progress, "GEMM: clgraph's own kernels on this device, nothing to tune "
                          "(CLGRAPH_GEMM=clblast tunes and runs CLBlast's instead)\n");
    cg__tuning out = {0};
    out.n_gemm = tu->n_gemm; /* the GEMM choices stay applied while the rest is measured */
    memcpy(out.gemm, tu->gemm, sizeof out.gemm);
    out.has_gemm_default = tu->has_gemm_default;
    memcpy(out.gemm_default, tu->gemm_default, sizeof out.gemm_default);
    /* The convolution configurations in ROUNDS interleaved rounds, each shape and pass keeping
     * its fastest per configuration: measured one configuration after the other, the CPU's drift
     * chose im2col for compare's first convolution at batch 64 (608 against 425 us), where
     * the whole step then ran 15% slower than with the direct kernels. */
    static tally round;
    for (int r = 0; st == CG_OK && r < ROUNDS; r++)
        for (int cfg = 0; st == CG_OK && cfg < CONFIGS; cfg++) {
            tu->force_conv = cfg == DIRECT ? CG_CONV_DIRECT : CG_CONV_IM2COL;
            tu->force_chunk = cfg == IM2COL_ONE ? 1 : -1;
            memset(&round, 0, sizeof round);
            for (int i = 0; st == CG_OK && i < n_models; i++) {
                if (progress)
                    fprintf(progress, "  round %d of %d, convolutions %s: %s, batch %d\n", r + 1,
                            ROUNDS, names[cfg], files[i / n_batches], batches[i % n_batches]);
                st = measure(models[i], cfg, -1, repeats, &round);
            }
            keep_fastest(&t, &round, cfg, r == 0);
        }
    /* The work-group size of the 1-D launches, on every launch that is neither GEMM nor conv;
     * another size must beat the built-in one by 5% (timings vary by a few per cent). Measured
     * in three rounds of every size, each size keeping its fastest: the CPU's speed drifts for
     * seconds at a time (other load, the host), which a size measured all at once would take
     * for its own (once a size of 64 came out 5% faster that way and made the element-wise
     * kernels of lenet 1.5-2x slower). */
    static const size_t locals[] = {64, 128, 256, 512, 1024};
    double other[CG__ARRAY_LEN(locals)] = {0};
    tu->force_conv = 0;
    tu->force_chunk = 0;
    for (int r = 0; st == CG_OK && r < ROUNDS; r++)
        for (size_t i = 0; st == CG_OK && i < CG__ARRAY_LEN(locals); i++) {
            if (locals[i] > ctx->info.max_work_group_size) break;
            ctx->default_local = locals[i];
            t.other_us = 0;
            for (int f = 0; st == CG_OK && f < n_files; f++) {
                if (progress)
                    fprintf(progress, "  round %d of %d, work-group %zu: %s, batch %d\n", r + 1,
                            ROUNDS, locals[i], files[f], batches[0]);
                st = measure(models[f * n_batches], -1, -1, repeats, &t);
            }
            if (other[i] <= 0 || t.other_us < other[i]) other[i] = t.other_us;
        }
    size_t best_local = default_local;
    double best_other = -1, builtin_other = -1;
    for (size_t i = 0; i < CG__ARRAY_LEN(locals); i++) {
        if (other[i] <= 0) continue;
        if (locals[i] == default_local) builtin_other = other[i];
        if (best_other < 0 || other[i] < best_other) {
            best_other = other[i];
            best_local = locals[i];
        }
    }
    if (builtin_other > 0 && best_other > 0.95 * builtin_other) {
        best_local = default_local;
        best_other = builtin_other;
    }
    ctx->default_local = default_local;
    ctx->autotune = autotune;
    tu->force_gemm = NULL;
    for (int i = 0; models && i < n_models; i++)
        cg_bench_model_close(models[i]);
    free(models);
    if (st != CG_OK) {
        cg__tuning_load(ctx);
        return st;
    }
    out.local_1d = best_local;
    out.has_chunk = true;
    bool row = t.im2col_us[IM2COL_ROW] <= t.im2col_us[IM2COL_ONE];
    out.im2col_chunk = row ? 0 : 1;
    int im2col_cfg = row ? IM2COL_ROW : IM2COL_ONE;
    if (progress)
        fprintf(progress,
                "\nim2col: %.0f us with a row per work-item, %.0f us with a column: %s\n"
                "1-D work-group: %zu (%.0f us of element-wise kernels per round)\n",
                t.im2col_us[IM2COL_ROW], t.im2col_us[IM2COL_ONE], row ? "rows" : "columns",
                best_local, best_other);
    for (int i = 0; i < t.n_shapes; i++) {
        const shape_time *s = &t.shapes[i];
        cg__conv_tune *c = &out.conv[out.n_conv++];
        memcpy(c->key, s->key, sizeof c->key);
        /* The default stands unless the other is 5% faster, as when a run measures (conv.c). */
        for (int pass = 0; pass < 2; pass++) {
            const int fallback = cg__conv_default_algo(ctx, s->key, pass);
            const double mine = s->us[fallback == CG_CONV_DIRECT ? DIRECT : im2col_cfg][pass];
            const double other = s->us[fallback == CG_CONV_DIRECT ? im2col_cfg : DIRECT][pass];
            c->algo[pass] = other < 0.95 * mine ? (fallback == CG_CONV_DIRECT ? CG_CONV_IM2COL
                                                                              : CG_CONV_DIRECT)
                                                : fallback;
        }
        if (progress)
            fprintf(progress,
                    "conv2d N=%u C=%u %ux%u O=%u k=%ux%u: forward direct %.0f us, im2col %.0f us: "
                    "%s; backward direct %.0f us, im2col %.0f us: %s\n",
                    s->key[0], s->key[1], s->key[2], s->key[3], s->key[4], s->key[5], s->key[6],
                    s->us[DIRECT][0], s->us[im2col_cfg][0], cg__conv_algo_name(c->algo[0]),
                    s->us[DIRECT][1], s->us[im2col_cfg][1], cg__conv_algo_name(c->algo[1]));
    }
    for (int i = 0; i < n_earlier && out.n_conv < CG__MAX_TUNED_CONV; i++) {
        bool measured = false;
        for (int k = 0; k < t.n_shapes && !measured; k++)
            measured = memcmp(t.shapes[k].key, earlier[i].key, sizeof earlier[i].key) == 0;
        if (!measured)
            out.conv[out.n_conv++] = earlier[i];
    }
    return cg__tuning_save(ctx, &out);
}
