/* The benchmark and tuning: the seed models in experiments/bench build with exactly the PyTorch
 * peer's parameter counts and train; a profiled step records every launch with its node, kernel,
 * time, bytes and (for GEMM and direct convolution) FLOPs, the same launches every step; the
 * roofline measures something; GEMM with tuned CLBlast parameters stays right; the tuning file
 * round-trips, steers the convolution algorithm per shape and pass, and a corrupt, foreign,
 * invalid or missing file leaves the defaults; autotune measures and remembers what a run uses;
 * every seed model's steps, recorded and replayed, give the same parameters as steps launched
 * one by one. */
#include <math.h>
#include <unistd.h>

#include "bench/bench.h"
#include "device/device_internal.h"
#include "graph/graph.h"
#include "harness.h"
#include "ops/ops.h"

static char dir[] = "/tmp/clgraph-bench-XXXXXX";

static const char *model_path(const char *name) {
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s.yaml", CLGRAPH_SOURCE_BENCH_DIR, name);
    return path;
}

/* Parameter counts printed by the peer script (torch_models.py) for the same architectures. */
static void test_models_match_peer(cg_context *ctx) {
    static const struct {
        const char *name;
        size_t params;
    } peer[] = {{"lenet", 62006},
                {"siamese", 436134},
                {"compare", 54476},
                {"dae", 928763},
                {"vae", 1177884}};
    for (size_t i = 0; i < CG__ARRAY_LEN(peer); i++) {
        cg_bench_model *m = NULL;
        CHECK_OK(cg_bench_model_open(ctx, model_path(peer[i].name), 8, &m));
        if (!m) continue;
        CHECK(strcmp(cg_bench_model_name(m), peer[i].name) == 0, "name %s", cg_bench_model_name(m));
        CHECK(cg_bench_model_params(m) == peer[i].params, "%s: %zu parameters, the peer has %zu",
              peer[i].name, cg_bench_model_params(m), peer[i].params);
        double ms = -1;
        CHECK_OK(cg_bench_model_time(m, 1, 2, &ms));
        CHECK(ms > 0, "%s: a step takes %g ms", peer[i].name, ms);
        cg_bench_model_close(m);
    }
    cg_bench_model *m = NULL;
    CHECK(cg_bench_model_open(ctx, model_path("nosuch"), 8, &m) != CG_OK && !m,
          "a missing model file is an error");
    CHECK_CONTAINS(cg_error_message(), "nosuch");
}

static const cg_bench_launch *find(const cg_bench_launch *l, int n, const char *label,
                                   const char *kernel) {
    for (int k = 0; k < n; k++)
        if (strcmp(l[k].label, label) == 0 && strcmp(l[k].kernel, kernel) == 0) return &l[k];
    return NULL;
}

static void test_profile(cg_context *ctx) {
    cg_bench_model *m = NULL;
    CHECK_OK(cg_bench_model_open(ctx, model_path("lenet"), 16, &m));
    if (!m) return;
    cg_bench_launch *l = NULL;
    int n = 0;
    CHECK_OK(cg_bench_model_profile(m, 3, &l, &n));
    CHECK(n > 20, "a LeNet step makes %d launches", n);
    int bad = 0;
    for (int k = 0; k < n; k++)
        bad += !(l[k].us >= 0 && l[k].bytes > 0 && l[k].items > 0 && l[k].label[0]);
    CHECK(bad == 0, "every launch has a time, bytes, items and a label (%d do not)", bad);
    /* fc1 is linear 400 -> 120 at batch 16: its forward GEMM is 2 * 16 * 120 * 400 FLOPs, one
     * CLBlast launch of 16 * 120 items, or our own row kernel after W's transpose (on CPUs). */
    const bool own = ctx->gemm_own;
    const cg_bench_launch *g = find(l, n, "lenet.7 forward", own ? "gemm_rows" : "clblast_sgemm");
    CHECK(g && g->flops == 2.0 * 16 * 120 * 400 && (own || g->items == 16 * 120),
          "the fc1 GEMM's FLOPs and items");
    /* Bytes are what a launch reads and writes, not the sizes of the buffers it is given where
     * those are larger (operands at offsets, the scratch buffer): fc1's x, W and y; conv2
     * (6 -> 16 channels, 5x5, 14x14 -> 10x10) through the channels-last kernel (its x, the
     * packed W and y; with the FLOPs of the convolution, not of the packing before it) or
     * im2col (its x and the column matrix). */
    CHECK(g && g->bytes == 4.0 * (16 * 400 + 400 * 120 + 16 * 120), "the fc1 GEMM's bytes (%g)",
          g ? g->bytes : -1.0);
    const cg_bench_launch *cd = find(l, n, "lenet.3 forward", "conv2d_cl_fwd");
    const cg_bench_launch *ci = find(l, n, "lenet.3 forward", "im2col");
    const cg_bench_launch *cp = find(l, n, "lenet.3 forward", "pack_weights");
    CHECK(cd ? cd->bytes == 4.0 * (16 * 6 * 14 * 14 + 6 * 5 * 5 * 16 + 16 * 16 * 10 * 10) &&
                   cd->flops == 2.0 * 16 * 16 * 10 * 10 * 6 * 5 * 5 && cp && cp->flops == 0
             : ci && ci->bytes == 4.0 * 16 * 6 * (14 * 14 + 5 * 5 * 10 * 10),
          "conv2's forward bytes (%g)", cd ? cd->bytes : ci ? ci->bytes : -1.0);
    CHECK(find(l, n, "optimizer", "adam_step") && find(l, n, "zero gradients", "fill_f32") &&
              find(l, n, "cross_entropy backward", "cross_entropy_bwd"),
          "optimizer, gradient zeroing and loss launches are labelled");
    cg_bench_peak peak = {100, 10};
    cg_bench_launch fake = {.us = 10, .flops = 500e3, .bytes = 20e3};
    /* 50 GFLOP/s of 100, 2 GB/s of 10: the larger fraction, 0.5. */
    CHECK(fabs(cg_bench_fraction(&fake, &peak) - 0.5) < 1e-12, "fraction %g",
          cg_bench_fraction(&fake, &peak));
    free(l);
    cg_bench_model_close(m);
    /* No profiler attached: nothing recorded, and the context's launches go on. */
    CHECK(!cg__profiling(ctx), "profiling is off after the profile");
}

static void test_peak(cg_context *ctx) {
    cg_bench_peak p = {0};
    CHECK_OK(cg_bench_peak_measure(ctx, &p));
    CHECK(p.gflops > 0.1 && p.gbps > 0.1, "peak %g GFLOP/s, %g GB/s", p.gflops, p.gbps);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* The kernel that runs lenet.0's forward at batch 4 on a context (not the layout change or the
 * weight packing around it). */
static const char *conv1_kernel(cg_context *ctx, char *out, size_t cap) {
    cg_bench_model *m = NULL;
    cg_bench_launch *l = NULL;
    int n = 0;
    snprintf(out, cap, "(none)");
    CHECK_OK(cg_bench_model_open(ctx, model_path("lenet"), 4, &m));
    if (m) CHECK_OK(cg_bench_model_profile(m, 1, &l, &n));
    for (int k = 0; k < n; k++)
        if (strcmp(l[k].label, "lenet.0 forward") == 0 &&
            strcmp(l[k].kernel, "cnhw_to_nchw") != 0 && strcmp(l[k].kernel, "pack_weights") != 0) {
            snprintf(out, cap, "%s", l[k].kernel);
            break;
        }
    free(l);
    cg_bench_model_close(m);
    return out;
}

/* GEMM through CLBlast with given direct-kernel parameters, against the host: a small one, and
 * one large enough (m * n * k above 384^3) that CLBlast would take its indirect path untuned. */
static void check_gemm(cg_context *ctx, int M, int N, int K);

static void test_tuned_gemm(cg_context *ctx) {
    check_gemm(ctx, 7, 13, 5);
    check_gemm(ctx, 301, 300, 700);
}

/* Runs an M x N x K GEMM through cg__sgemm (with the context's tuning as it stands) and counts
 * the values that differ from the host's. */
static int gemm_errors(cg_context *ctx, int M, int N, int K) {
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c = malloc(sizeof(float) * M * N);
    size_t sa = sizeof(float) * M * K, sb = sizeof(float) * K * N, sc = sizeof(float) * M * N;
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 7) % 11) - 5;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 5) % 9) - 4;
    cl_mem ma, mb, mc;
    CHECK_OK(cg__buffer_create(ctx, sa, &ma));
    CHECK_OK(cg__buffer_create(ctx, sb, &mb));
    CHECK_OK(cg__buffer_create(ctx, sc, &mc));
    CHECK_OK(cg__buffer_write(ctx, ma, a, sa));
    CHECK_OK(cg__buffer_write(ctx, mb, b, sb));
    CHECK_OK(cg__sgemm(ctx, false, false, M, N, K, 1.0f, ma, 0, K, mb, 0, N, 0.0f, mc, 0, N));
    CHECK_OK(cg__buffer_read(ctx, mc, c, sc));
    int bad_values = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float want = 0;
            for (int k = 0; k < K; k++)
                want += a[i * K + k] * b[k * N + j];
            bad_values += c[i * N + j] != want;
        }
    free(a);
    free(b);
    free(c);
    clReleaseMemObject(ma);
    clReleaseMemObject(mb);
    clReleaseMemObject(mc);
    return bad_values;
}

static void check_gemm(cg_context *ctx, int M, int N, int K) {
    static const size_t params[CG__GEMM_PARAMS] = {2, 4, 4, 4, 4, 0, 0, 8, 8, 32};
    static const size_t bad[CG__GEMM_PARAMS] = {2, 4, 4, 4, 4, 0, 0, 8, 8, 30};
    CHECK(cg__gemm_params_valid(params) && !cg__gemm_params_valid(bad), "parameter checks");
    ctx->tuning.force_gemm = params;
    int bad_values = gemm_errors(ctx, M, N, K);
    ctx->tuning.force_gemm = NULL;
    CHECK(bad_values == 0 && ctx->tuning.gemm_applied == params,
          "a %dx%dx%d GEMM with tuned parameters is right (%d wrong)", M, N, K, bad_values);
}

/* A tuned choice is tried on its first use: one CLBlast cannot run (its local arrays, WGD x
 * (WGD + PADA) and WGD x (WGD + PADB) floats, padded past the local memory the device has: PoCL
 * gives its L2 cache, 1 or 2 MiB; small tiles, so that it compiles as fast as the generic one)
 * and one far slower than CLBlast's generic parameters (work-groups of one item) give way to the
 * generic ones, the GEMMs stay right, and the tuning note says why. One that is fine stands. */
static size_t gemm_local_bytes(const size_t *q) {
    return sizeof(float) * (q[9] * (q[9] + q[5]) + q[9] * (q[9] + q[6]));
}

static void test_tuned_gemm_fallback(cg_context *ctx) {
    size_t fails[CG__GEMM_PARAMS] = {2, 8, 8, 8, 8, 1024, 1024, 1, 1, 32};
    while (gemm_local_bytes(fails) <= ctx->info.local_mem && fails[5] < ((size_t)1 << 24))
        fails[5] *= 2, fails[6] *= 2;
    static const size_t slow[CG__GEMM_PARAMS] = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1};
    static const size_t fine[CG__GEMM_PARAMS] = {2, 8, 8, 8, 8, 1, 1, 1, 1, 32};
    cg__tuning *t = &ctx->tuning;
    cg__tuning saved = *t;
    ctx->gemm_own = false; /* the tuned choices are CLBlast's (the GPU path) */
    const size_t *choice[] = {fails, slow, fine};
    const uint32_t m[] = {32, 128, 48};
    t->n_gemm = 3;
    for (int i = 0; i < 3; i++) {
        t->gemm[i] = (cg__gemm_tune){{0, 0, m[i], m[i], m[i]}, {0}, 0};
        memcpy(t->gemm[i].params, choice[i], sizeof t->gemm[i].params);
    }
    CHECK(gemm_local_bytes(fails) > ctx->info.local_mem,
          "the failing choice needs more local memory than the device's %llu bytes",
          (unsigned long long)ctx->info.local_mem);
    for (int i = 0; i < 3; i++) {
        int wrong = gemm_errors(ctx, (int)m[i], (int)m[i], (int)m[i]);
        CHECK(wrong == 0, "a %ux%ux%u GEMM after its tuned choice was tried is right (%d wrong)",
              m[i], m[i], m[i], wrong);
    }
    CHECK(t->gemm[0].verdict < 0 && t->gemm[1].verdict < 0 && t->gemm[2].verdict > 0 &&
              cg_context_tuning_fallbacks(ctx) == 2,
          "two tuned choices set aside, one stands (%d %d %d, %d)", t->gemm[0].verdict,
          t->gemm[1].verdict, t->gemm[2].verdict, cg_context_tuning_fallbacks(ctx));
    const char *note = cg_context_tuning(ctx);
    CHECK_CONTAINS(note, "NN 32x32x32 failed with");
    CHECK_CONTAINS(note, "NN 128x128x128 ran");
    CHECK(!strstr(note, "48x48x48"), "the choice that stands is not named: %s", note);
    /* Tried once: the second use takes the verdict. */
    CHECK(gemm_errors(ctx, 128, 128, 128) == 0 && cg_context_tuning_fallbacks(ctx) == 2,
          "a choice is tried once");
    *t = saved;
    t->gemm_applied = NULL;
}

static void test_tuning(void) {
    char cache[256], path[4200], kernel[64];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    cg_context_options o = {.profiling = true, .cache_dir = cache};
    cg_context *ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "none yet");
    CHECK(cg__tuning_path(ctx, path, sizeof path), "a tuning path");
    /* Untuned, conv1 runs the direct kernel on CPUs and im2col + GEMM on GPUs. */
    const bool cpu = ctx->info.type == CG_DEVICE_CPU;
    const char *untuned = cpu ? "conv2d_direct_fwd" : "im2col";
    const char *other = cpu ? "im2col" : "conv2d_direct_fwd";
    const int other_algo = cpu ? CG_CONV_IM2COL : CG_CONV_DIRECT;
    CHECK(strcmp(conv1_kernel(ctx, kernel, sizeof kernel), untuned) == 0, "untuned: %s", kernel);
    /* A tuning file that sends conv1's shape at batch 4 to the other algorithm. */
    cg__tuning t = {.local_1d = 64, .has_chunk = true, .im2col_chunk = 1, .n_conv = 1};
    const uint32_t key[11] = {4, 3, 32, 32, 6, 5, 5, 1, 1, 0, 0};
    /* The default that `clgraph tune` keeps unless the other is 5% faster is the algorithm that
     * runs untuned (for conv1's shape, both passes). */
    CHECK(cg__conv_default_algo(ctx, key, 0) == (cpu ? CG_CONV_DIRECT : CG_CONV_IM2COL) &&
              cg__conv_default_algo(ctx, key, 1) == (cpu ? CG_CONV_DIRECT : CG_CONV_IM2COL),
          "conv1's default algorithms");
    memcpy(t.conv[0].key, key, sizeof key);
    t.conv[0].algo[0] = other_algo;
    t.conv[0].algo[1] = CG_CONV_IM2COL;
    static const size_t gp[CG__GEMM_PARAMS] = {2, 8, 8, 8, 8, 0, 0, 8, 8, 64};
    t.n_gemm = 1;
    t.gemm[0] = (cg__gemm_tune){{0, 1, 64, 120, 400}, {0}};
    memcpy(t.gemm[0].params, gp, sizeof gp);
    t.has_gemm_default = true;
    memcpy(t.gemm_default, gp, sizeof gp);
    CHECK_OK(cg__tuning_save(ctx, &t));
    cg_context_destroy(ctx);
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "1 convolution shapes, 1 GEMM shapes");
    CHECK(ctx->tuning.n_gemm == 1 && ctx->tuning.gemm[0].key[4] == 400 &&
              ctx->tuning.gemm[0].params[9] == 64 && ctx->tuning.has_gemm_default,
          "the GEMM entries are read");
    CHECK(ctx->default_local == 64 || 64 > ctx->info.max_work_group_size,
          "the tuned work-group size is used (%zu)", ctx->default_local);
    CHECK(cg__tuned_im2col_chunk(ctx, 28) == 1, "the tuned im2col chunk");
    CHECK(cg__tuned_conv_algo(ctx, key, 0) == other_algo &&
              cg__tuned_conv_algo(ctx, key, 1) == CG_CONV_IM2COL,
          "the tuned algorithms are read");
    CHECK(strcmp(conv1_kernel(ctx, kernel, sizeof kernel), other) == 0, "tuned: conv1 runs %s",
          kernel);
    cg_context_destroy(ctx);
    /* Corrupt: a line that is not a tuning line. Foreign: another device. Both: defaults. */
    FILE *f = fopen(path, "a");
    fputs("conv2d 1 2 three\n", f);
    fclose(f);
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "ignored");
    CHECK_CONTAINS(cg_context_tuning(ctx), "conv2d 1 2 three");
    CHECK(ctx->tuning.n_conv == 0 && !ctx->tuning.has_chunk, "a corrupt file sets nothing");
    CHECK(strcmp(conv1_kernel(ctx, kernel, sizeof kernel), untuned) == 0,
          "corrupt file: defaults (%s)", kernel);
    cg_context_destroy(ctx);
    /* A file of version 1 chose among the direct kernels before their rewrite: its conv2d lines
     * are skipped, its other lines stand. */
    write_file(path, "clgraph tuning 1\nlocal_1d 64\nconv2d 4 3 32 32 6 5 5 1 1 0 0 im2col "
                     "direct\ngemm 0 1 64 120 400 2 8 8 8 8 0 0 8 8 64\n");
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "0 convolution shapes, 1 GEMM shapes");
    CHECK(ctx->tuning.n_conv == 0 && ctx->tuning.n_gemm == 1,
          "version 1: conv2d lines skipped (%d), GEMM lines read (%d)", ctx->tuning.n_conv,
          ctx->tuning.n_gemm);
    CHECK(strcmp(conv1_kernel(ctx, kernel, sizeof kernel), untuned) == 0,
          "version 1 file: conv1 runs %s", kernel);
    cg_context_destroy(ctx);
    /* conv2d lines measured with other kernels, or with no kernels line before them, are set
     * aside (and said so); a kernels line of this build's lets them stand. */
    char kernels[17], text[300];
    cg__tuning_kernels(kernels);
    const char *heads[] = {"kernels 0123456789abcdef\n", "", "kernels "};
    for (int h = 0; h < 3; h++) {
        snprintf(text, sizeof text,
                 "clgraph tuning 2\nlocal_1d 64\nim2col_chunk 1\n%s%s\n"
                 "conv2d 4 3 32 32 6 5 5 1 1 0 0 %s %s\ngemm 0 1 64 120 400 2 8 8 8 8 0 0 8 8 64\n",
                 heads[h], h == 2 ? kernels : "", cg__conv_algo_name(other_algo),
                 cg__conv_algo_name(other_algo));
        write_file(path, text);
        ctx = cgt_open(&o);
        const bool stands = h == 2;
        CHECK(ctx->tuning.n_conv == (stands ? 1 : 0) && ctx->tuning.n_gemm == 1 &&
                  ctx->tuning.n_stale_conv == (stands ? 0 : 1),
              "kernels line %d: %d conv2d lines read, %d set aside, %d GEMM lines", h,
              ctx->tuning.n_conv, ctx->tuning.n_stale_conv, ctx->tuning.n_gemm);
        if (stands) {
            CHECK(!strstr(cg_context_tuning(ctx), "set aside"), "nothing set aside: %s",
                  cg_context_tuning(ctx));
        } else {
            CHECK_CONTAINS(cg_context_tuning(ctx), "1 convolution lines set aside, measured "
                                                   "with other kernels");
        }
        CHECK(strcmp(conv1_kernel(ctx, kernel, sizeof kernel), stands ? other : untuned) == 0,
              "kernels line %d: conv1 runs %s", h, kernel);
        cg_context_destroy(ctx);
    }
    /* CLBlast's constraints: a work-group tile of 30 does not divide by the vector width. */
    write_file(path, "clgraph tuning 1\ngemm 0 0 8 8 8 2 4 4 4 4 0 0 8 8 30\n");
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "ignored");
    CHECK(ctx->tuning.n_gemm == 0, "invalid GEMM parameters are not used");
    cg_context_destroy(ctx);
    /* Parameters that meet CLBlast's constraints but not this device or the range its own tuner
     * searches (the first made PoCL compile for minutes or crash in XgemmDirectTT). */
    const char *const unfit[][2] = {
        {"gemm 0 0 8 8 8 256 16 16 16 16 0 0 16 16 256", "KWID 256"},
        {"gemm 0 0 8 8 8 2 8 8 8 8 0 0 1 1 128", "a tile of 256 floats per work-item"},
        {"gemm_default 2 8 8 8 8 0 0 16 16 128", "vector widths 16 and 16"},
        {"gemm 0 0 8 8 8 2 8 8 8 8 1 1 1 1 64", "33280 bytes of local memory (WGD 64)"},
    };
    ctx = cgt_open(&o);
    uint64_t local_mem = ctx->info.local_mem;
    for (size_t i = 0; i < sizeof unfit / sizeof unfit[0]; i++) {
        char text[200];
        ctx->info.local_mem = i == 3 ? 16384 : local_mem; /* the last: a device with 16 KiB */
        snprintf(text, sizeof text, "clgraph tuning 1\ngemm_default 2 4 4 4 4 0 0 8 8 32\n%s\n",
                 unfit[i][0]);
        write_file(path, text);
        cg__tuning_load(ctx);
        CHECK_CONTAINS(cg_context_tuning(ctx), "ignored");
        CHECK_CONTAINS(cg_context_tuning(ctx), unfit[i][1]);
        CHECK(ctx->tuning.n_gemm == 0 && !ctx->tuning.has_gemm_default,
              "unfit GEMM parameters set nothing: %s", unfit[i][0]);
    }
    cg_context_destroy(ctx);
    write_file(path, "clgraph tuning 1\ndevice Some Other GPU\nlocal_1d 64\n");
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "another device");
    cg_context_destroy(ctx);
    write_file(path, "\x01\x02garbage");
    ctx = cgt_open(&o);
    CHECK_CONTAINS(cg_context_tuning(ctx), "header");
    cg_context_destroy(ctx);
    /* Cache off: no file, defaults, and saving says why. */
    cg_context_options off = {.no_cache = true};
    ctx = cgt_open(&off);
    CHECK_CONTAINS(cg_context_tuning(ctx), "cache is off");
    CHECK(cg__tuning_save(ctx, &t) != CG_OK, "no tuning file without a cache");
    cg_context_destroy(ctx);
    remove(path);
}

/* One conv2d forward and backward through cg_op_run_host: x (3, 4, 9, 11), 5 channels of 3x3
 * windows with padding 1, the input gradient and both parameter gradients accumulated onto
 * values; the results in r (out, din, dw, db, back to back). */
enum { AT_X = 3 * 4 * 9 * 11, AT_Y = 3 * 5 * 9 * 11, AT_W = 5 * 4 * 3 * 3, AT_B = 5 };
static void autotune_conv(cg_context *ctx, float *r) {
    static float x[AT_X], w[AT_W], b[AT_B], dy[AT_Y], dx0[AT_X], dw0[AT_W], db0[AT_B];
    uint32_t s = 12345;
    float *all[] = {x, w, b, dy, dx0, dw0, db0};
    const int len[] = {AT_X, AT_W, AT_B, AT_Y, AT_X, AT_W, AT_B};
    for (int a = 0; a < 7; a++)
        for (int i = 0; i < len[a]; i++) {
            s = s * 1664525u + 1013904223u;
            all[a][i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
        }
    cg_op_attrs at = {.features = 5, .kernel = {3, 3}, .stride = {1, 1}, .pad = {1, 1},
                      .bias = true};
    cg_op_host_io io = {.op = cg_op_find("conv2d"), .attrs = &at, .n_in = 1, .dout = dy,
                        .training = true};
    io.in_shape[0] = cg_shape_make(4, 3, 4, 9, 11);
    io.in[0] = x;
    io.want_din[0] = true;
    io.din_init[0] = dx0;
    io.params[0] = w, io.params[1] = b;
    io.dparams_init[0] = dw0, io.dparams_init[1] = db0;
    io.out = r, io.din[0] = r + AT_Y, io.dparams[0] = r + AT_Y + AT_X;
    io.dparams[1] = r + AT_Y + AT_X + AT_W;
    CHECK_OK(cg_op_run_host(ctx, &io, NULL));
}

/* Autotune: a convolution shape without a choice is timed both ways on its first use, and the
 * faster is remembered in the tuning file (both passes); the call's results are those of the
 * chosen algorithm run once (bit for bit those of a context that reads that choice from the
 * file), so the measuring never wrote into its outputs or added to its gradients; without a
 * cache, or with CLGRAPH_AUTOTUNE=0, nothing is measured; `clgraph tune` keeps what runs
 * measured on shapes it does not measure itself. */
static void test_autotune(void) {
    char cache[256], path[4200];
    snprintf(cache, sizeof cache, "%s/autotune", dir);
    cg_context_options o = {.cache_dir = cache, .autotune = true};
    cg_context *ctx = cgt_open(&o);
    CHECK(ctx->autotune && cg_context_tuning_state(ctx) == CG_TUNING_NONE_YET,
          "autotune on, no file yet");
    CHECK(cg__tuning_path(ctx, path, sizeof path), "a tuning path");
    enum { ALL = AT_Y + AT_X + AT_W + AT_B };
    static float first[ALL], again[ALL];
    autotune_conv(ctx, first);
    const uint32_t key[11] = {3, 4, 9, 11, 5, 3, 3, 1, 1, 1, 1};
    int fwd = cg__tuned_conv_algo(ctx, key, 0), bwd = cg__tuned_conv_algo(ctx, key, 1);
    CHECK(fwd != CG_CONV_AUTO && bwd != CG_CONV_AUTO, "both passes measured (%d, %d)", fwd, bwd);
    CHECK(cg_context_tuning_state(ctx) == CG_TUNING_FROM_RUNS, "the context says so");
    CHECK_CONTAINS(cg_context_tuning(ctx), "measured by runs");
    cg_context_destroy(ctx);
    /* Read back: the same choices; with autotune off the results are the chosen algorithm's. */
    cg_context_options plain = {.cache_dir = cache};
    ctx = cgt_open(&plain);
    CHECK(cg_context_tuning_state(ctx) == CG_TUNING_FROM_RUNS && !ctx->autotune,
          "a file of what runs measured");
    CHECK(cg__tuned_conv_algo(ctx, key, 0) == fwd && cg__tuned_conv_algo(ctx, key, 1) == bwd,
          "the file holds the choices");
    autotune_conv(ctx, again);
    int differ = 0;
    for (int i = 0; i < ALL; i++)
        differ += memcmp(&first[i], &again[i], sizeof(float)) != 0;
    CHECK(differ == 0, "%d of %d results differ from the chosen algorithm's", differ, ALL);
    cg_context_destroy(ctx);
    /* A pass not measured yet is written "auto" and read as such. */
    char kernels[17], text[160];
    cg__tuning_kernels(kernels);
    snprintf(text, sizeof text,
             "clgraph tuning 2\nkernels %s\nconv2d 3 4 9 11 5 3 3 1 1 1 1 direct auto\n", kernels);
    write_file(path, text);
    setenv("CLGRAPH_AUTOTUNE", "0", 1);
    ctx = cgt_open(&o);
    CHECK(!ctx->autotune, "CLGRAPH_AUTOTUNE=0 turns it off");
    CHECK(cg__tuned_conv_algo(ctx, key, 0) == CG_CONV_DIRECT &&
              cg__tuned_conv_algo(ctx, key, 1) == CG_CONV_AUTO,
          "auto: not measured yet");
    autotune_conv(ctx, again);
    CHECK(cg__tuned_conv_algo(ctx, key, 1) == CG_CONV_AUTO, "nothing measured with it off");
    cg_context_destroy(ctx);
    setenv("CLGRAPH_AUTOTUNE", "2", 1);
    cg_context *bad = NULL;
    CHECK(cg_context_create(&o, &bad) != CG_OK && !bad, "CLGRAPH_AUTOTUNE=2 is refused");
    CHECK_CONTAINS(cg_error_message(), "CLGRAPH_AUTOTUNE=2");
    unsetenv("CLGRAPH_AUTOTUNE");
    /* The backward measured now joins the forward on disk. */
    ctx = cgt_open(&o);
    autotune_conv(ctx, again);
    cg_context_destroy(ctx);
    ctx = cgt_open(&plain);
    CHECK(cg__tuned_conv_algo(ctx, key, 0) == CG_CONV_DIRECT &&
              cg__tuned_conv_algo(ctx, key, 1) != CG_CONV_AUTO,
          "the forward kept, the backward added");
    cg_context_destroy(ctx);
    /* No cache: no file, nothing measured. */
    cg_context_options off = {.no_cache = true, .autotune = true};
    ctx = cgt_open(&off);
    CHECK(!ctx->autotune, "no autotune without a place for the file");
    cg_context_destroy(ctx);
    /* `clgraph tune` keeps the shapes it does not measure (lenet at batch 2, one repeat). */
    char files[1][1024];
    snprintf(files[0], sizeof files[0], "%s", model_path("lenet"));
    const int batch = 2;
    ctx = cgt_open(&plain);
    CHECK_OK(cg_bench_tune(ctx, files, 1, &batch, 1, 1, NULL));
    CHECK(cg_context_tuning_state(ctx) == CG_TUNING_LOADED, "a full tuning file");
    CHECK(cg__tuned_conv_algo(ctx, key, 0) == CG_CONV_DIRECT, "the run's shape is kept");
    const uint32_t lenet1[11] = {2, 3, 32, 32, 6, 5, 5, 1, 1, 0, 0};
    CHECK(cg__tuned_conv_algo(ctx, lenet1, 0) != CG_CONV_AUTO, "lenet's shape is tuned");
    cg_context_destroy(ctx);
}

static cg_context *open_replay(const char *value) {
    setenv("CLGRAPH_REPLAY", value, 1);
    cg_context *c = cgt_open(NULL);
    unsetenv("CLGRAPH_REPLAY");
    return c;
}

/* Six steps of a seed model at batch 8; its parameters after them, malloc'ed. */
static float *six_steps(cg_context *ctx, const char *name, size_t *n, cg_replay_stats *rs) {
    cg_bench_model *m = NULL;
    CHECK_OK(cg_bench_model_open(ctx, model_path(name), 8, &m));
    if (!m) return NULL;
    for (int s = 0; s < 6; s++)
        CHECK_OK(cg_bench_model_step(m));
    cg_graph *g = cg_bench_model_graph(m);
    *n = cg_graph_param_buffer_floats(g);
    float *p = malloc(*n * sizeof *p);
    if (p) CHECK_OK(cg_graph_read_params(g, p, false));
    *rs = cg_bench_model_replay(m);
    cg_bench_model_close(m);
    return p;
}

/* The seed models' steps replayed (convolutions, dropout, noise, reparameterisation, Adam)
 * against the same steps launched one by one: bit for bit the same parameters. */
static void test_replay_models(void) {
    cg_context *rep = open_replay("1"), *live = open_replay("0");
    if (!cg_context_device(rep)->command_buffers) {
        printf("skip replay: the device has no cl_khr_command_buffer\n");
    } else {
        static const char *names[] = {"lenet", "siamese", "compare", "dae", "vae"};
        for (size_t i = 0; i < CG__ARRAY_LEN(names); i++) {
            size_t na = 0, nb = 0;
            cg_replay_stats sa, sb;
            float *a = six_steps(rep, names[i], &na, &sa), *b = six_steps(live, names[i], &nb, &sb);
            CHECK(a && b && na == nb && memcmp(a, b, na * sizeof *a) == 0,
                  "%s: replayed steps give other parameters", names[i]);
            CHECK(sa.recorded == 1 && sa.replayed == 4 && sa.steps == 6 && sb.replayed == 0,
                  "%s: recorded %u, replayed %u of %u steps (%u without replay)", names[i],
                  sa.recorded, sa.replayed, sa.steps, sb.replayed);
            free(a);
            free(b);
        }
        /* CLBlast's GEMMs run as usual between command buffers */
        cg_context_destroy(rep);
        cg_context_destroy(live);
        setenv("CLGRAPH_GEMM", "clblast", 1);
        rep = open_replay("1");
        live = open_replay("0");
        unsetenv("CLGRAPH_GEMM");
        size_t na = 0, nb = 0;
        cg_replay_stats sa, sb;
        float *a = six_steps(rep, "lenet", &na, &sa), *b = six_steps(live, "lenet", &nb, &sb);
        CHECK(a && b && na == nb && memcmp(a, b, na * sizeof *a) == 0,
              "lenet with CLBlast: other parameters with CLGRAPH_REPLAY=1");
        CHECK(sa.recorded == 1 && sa.replayed == 4 && sa.segments > 5,
              "lenet with CLBlast: recorded %u, replayed %u, %u command buffers", sa.recorded,
              sa.replayed, sa.segments);
        free(a);
        free(b);
        printf("ok   replayed steps of the seed models equal launched ones\n");
    }
    cg_context_destroy(rep);
    cg_context_destroy(live);
}

int main(void) {
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    cg_context_options o = {.profiling = true};
    cg_context *ctx = cgt_open(&o);
    test_models_match_peer(ctx);
    test_profile(ctx);
    test_peak(ctx);
    test_tuned_gemm(ctx);
    cg_context_destroy(ctx);
    ctx = cgt_open(&o);
    test_tuned_gemm_fallback(ctx);
    cg_context_destroy(ctx);
    test_tuning();
    test_autotune();
    test_replay_models();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return cgt_finish("test_bench");
}
