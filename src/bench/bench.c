/* Roofline, model step timing and per-launch profiling for the benchmark (bench.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "device/device_internal.h"
#include "exp/experiment.h"
#include "ops/ops.h"
#include "pipelines/pipeline.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- roofline ---- */

/* Runs one 1-D launch of (program, kernel) `runs` times after two warm-ups and gives the median
 * device time in microseconds. */
static cg_status time_launch(cg_context *ctx, const char *kernel, size_t items,
                             const cg__karg *args, size_t nargs, int runs, double *us) {
    cg__profiler p = {0};
    double t[16];
    cg_status st = CG_OK;
    for (int r = 0; st == CG_OK && r < runs + 2; r++) {
        cg__profile_attach(ctx, &p);
        st = cg__kernel_run1d(ctx, "bench.cl", kernel, items, 0, args, nargs);
        cg__profile_attach(ctx, NULL);
        if (st == CG_OK) st = cg_context_finish(ctx);
        double v = p.n == 1 ? cg__profile_event_us(p.rec[0].event) : -1;
        if (st == CG_OK && v < 0)
            st = cg__error(CG_ERR_OPENCL,
                           "no profiling time for %s; the queue must be made "
                           "with profiling on",
                           kernel);
        if (r >= 2) t[r - 2] = v;
        cg__profile_clear(&p);
    }
    cg__profile_free(&p);
    if (st == CG_OK) *us = median(t, runs);
    return st;
}

cg_status cg_bench_peak_measure(cg_context *ctx, cg_bench_peak *out) {
    const cg_device_info *d = cg_context_device(ctx);
    /* Enough work-items to fill every compute unit many times over, and iterations doubled
     * until one launch takes 20 ms, so launch overhead does not count. */
    size_t items = (size_t)(d->compute_units ? d->compute_units : 1) * 2048;
    cl_mem buf = NULL, src = NULL;
    cg_status st = cg__buffer_create(ctx, items * sizeof(float), &buf);
    double us = 0;
    uint32_t iters = 64;
    /* CPUs need more independent chains than GPUs, which hide the latency across work-items
     * (bench.cl); the GPU kernel is the smaller one, not yet compared with the other there. */
    const bool cpu = d->type == CG_DEVICE_CPU;
    const char *kernel = cpu ? "peak_fma_wide" : "peak_fma";
    const double per_iter = cpu ? 384.0 : 64.0; /* operations per work-item and iteration */
    while (st == CG_OK) {
        const cg__karg args[] = {CG_KMEM(buf), CG_KF32(0.9990234375f), CG_KF32(0.0009765625f),
                                 CG_KU32(iters), CG_KU32(items)};
        st = time_launch(ctx, kernel, items, args, 5, 5, &us);
        if (st != CG_OK || us > 20000 || iters >= (1u << 24)) break;
        iters *= us < 1000 ? 8 : 2;
    }
    if (st == CG_OK) out->gflops = per_iter * (double)items * iters / (us * 1e3);
    if (buf) clReleaseMemObject(buf);
    buf = NULL;
    /* Copy: a buffer well beyond any cache, within what one allocation may take. */
    size_t bytes = (size_t)256 << 20;
    if (d->type == CG_DEVICE_CPU) bytes = (size_t)64 << 20;
    if (d->max_alloc && bytes > d->max_alloc / 2) bytes = (size_t)(d->max_alloc / 2) & ~(size_t)15;
    if (st == CG_OK) st = cg__buffer_create(ctx, bytes, &src);
    if (st == CG_OK) st = cg__buffer_create(ctx, bytes, &buf);
    if (st == CG_OK) st = cg__fill(ctx, src, 1.0f, bytes / 4);
    if (st == CG_OK) {
        const cg__karg args[] = {CG_KMEM(buf), CG_KMEM(src), CG_KU32(bytes / 16)};
        st = time_launch(ctx, "peak_copy4", bytes / 16, args, 3, 5, &us);
    }
    if (st == CG_OK) out->gbps = 2.0 * (double)bytes / (us * 1e3);
    if (src) clReleaseMemObject(src);
    if (buf) clReleaseMemObject(buf);
    return st == CG_OK ? st : cg__error_prefix(st, "measuring the device's peak");
}

double cg_bench_fraction(const cg_bench_launch *l, const cg_bench_peak *peak) {
    if (l->us <= 0) return 0;
    double f = peak->gflops > 0 ? l->flops / (l->us * 1e3) / peak->gflops : 0;
    double b = peak->gbps > 0 ? l->bytes / (l->us * 1e3) / peak->gbps : 0;
    return f > b ? f : b;
}

/* ---- models ---- */

struct cg_bench_model {
    cg_context *ctx;
    char name[64];
    cg_experiment e;
    cg_dataset data;
    bool have_data;
    cg_exp_graph eg;
};

const char *cg_bench_model_name(const cg_bench_model *m) {
    return m->name;
}

struct cg_graph *cg_bench_model_graph(cg_bench_model *m) {
    return m->eg.graph;
}

cg_replay_stats cg_bench_model_replay(const cg_bench_model *m) {
    return cg_graph_replay_stats(m->eg.graph);
}

size_t cg_bench_model_params(const cg_bench_model *m) {
    return cg_graph_param_floats(m->eg.graph);
}

void cg_bench_model_close(cg_bench_model *m) {
    if (!m) return;
    cg_exp_graph_free(&m->eg);
    if (m->have_data) cg_dataset_free(&m->data);
    free(m);
}

/* Puts the first batch of every array the graph reads on the device. */
static cg_status feed(cg_bench_model *m, const cg_split *s, int batch) {
    for (int a = 0; a < s->n_arrays; a++) {
        int v = m->eg.inputs[a];
        if (v < 0 || !cg_graph_value_used(m->eg.graph, v)) continue;
        const cg_array *arr = &s->arrays[a];
        size_t row = cg_shape_numel(&arr->shape) / (size_t)arr->shape.d[0] * 4;
        cg_status st = cg__buffer_write(m->ctx, cg_graph_value_mem(m->eg.graph, v), arr->data,
                                        row * (size_t)batch);
        if (st != CG_OK) return st;
    }
    return CG_OK;
}

cg_status cg_bench_model_open(cg_context *ctx, const char *yaml, int batch, cg_bench_model **out) {
    *out = NULL;
    cg_bench_model *m = calloc(1, sizeof *m);
    if (!m) return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a model");
    m->ctx = ctx;
    const char *base = strrchr(yaml, '/');
    cg__copy_str(m->name, sizeof m->name, base ? base + 1 : yaml);
    char *dot = strrchr(m->name, '.');
    if (dot) *dot = '\0';
    cg_status st = cg_experiment_load(yaml, NULL, NULL, 0, &m->e);
    cg_data_config cfg = m->e.data.data;
    if (cfg.n_train < batch) cfg.n_train = batch; /* one batch of real data is all a step needs */
    if (st == CG_OK && (st = cg_data_generate(m->e.data.pipeline, &cfg, &m->data)) == CG_OK)
        m->have_data = true;
    const cg_split *split = NULL;
    if (st == CG_OK && !(split = cg_dataset_find(&m->data, m->e.stages[0].split)))
        st = cg__error(CG_ERR_INVALID_ARGUMENT, "the %s data has no split '%s'", m->e.data.pipeline,
                       m->e.stages[0].split);
    if (st == CG_OK && cg_split_count(split) < batch)
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "split '%s' has %d samples, fewer than a batch of "
                       "%d; raise data.train",
                       m->e.stages[0].split, cg_split_count(split), batch);
    if (st == CG_OK)
        st = cg_experiment_build(&m->e, 0, ctx, split, batch, m->e.data.data.seed, &m->eg);
    if (st == CG_OK) st = feed(m, split, batch);
    if (st != CG_OK) {
        cg_bench_model_close(m);
        return cg__error_prefix(st, "%s at batch %d", yaml, batch);
    }
    *out = m;
    return CG_OK;
}

cg_status cg_bench_model_step(cg_bench_model *m) {
    return cg_graph_train_step(m->eg.graph, &m->e.stages[0].optimizer);
}

cg_status cg_bench_model_step_recorded(cg_bench_model *m, struct cg__profiler *p) {
    cg__profile_attach(m->ctx, p);
    cg_status st = cg_bench_model_step(m);
    cg__profile_attach(m->ctx, NULL);
    return st == CG_OK ? cg_context_finish(m->ctx) : st;
}

cg_status cg_bench_model_time(cg_bench_model *m, int warmup, int steps, double *step_ms) {
    cg_status st = CG_OK;
    float loss;
    for (int i = 0; st == CG_OK && i < warmup; i++)
        st = cg_bench_model_step(m);
    if (st == CG_OK) st = cg_context_finish(m->ctx);
    double t0 = cg__now_ms();
    for (int i = 0; st == CG_OK && i < steps; i++)
        st = cg_bench_model_step(m);
    if (st == CG_OK) st = cg_graph_read_accumulator(m->eg.graph, &loss, 1);
    if (st == CG_OK && !isfinite(loss))
        st = cg__error(CG_ERR_CHECK_FAILED, "%s: the loss is %g after %d steps", m->name, loss,
                       warmup + steps);
    *step_ms = (cg__now_ms() - t0) / (steps > 0 ? steps : 1);
    return st;
}

cg_status cg_bench_model_profile(cg_bench_model *m, int repeats, cg_bench_launch **out, int *n) {
    *out = NULL;
    *n = 0;
    cg__profiler p = {0};
    double *times = NULL;
    cg_bench_launch *launches = NULL;
    int count = 0;
    /* One step first, unrecorded: the first step also makes the optimizer's state. */
    cg_status st = cg_bench_model_step(m);
    for (int r = 0; st == CG_OK && r < repeats; r++) {
        st = cg_bench_model_step_recorded(m, &p);
        if (st == CG_OK && r == 0) {
            count = (int)p.n;
            times = calloc((size_t)count * (size_t)repeats + 1, sizeof *times);
            launches = calloc((size_t)count + 1, sizeof *launches);
            if (!times || !launches)
                st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d launch records", count);
            for (int k = 0; st == CG_OK && k < count; k++) {
                cg_bench_launch *l = &launches[k];
                cg__copy_str(l->label, sizeof l->label, p.rec[k].label);
                cg__copy_str(l->kernel, sizeof l->kernel, p.rec[k].kernel);
                l->items = p.rec[k].items;
                l->flops = p.rec[k].flops;
                l->bytes = p.rec[k].bytes;
            }
        }
        if (st == CG_OK && (int)p.n != count)
            st = cg__error(CG_ERR_CHECK_FAILED, "%s: step %d made %zu launches, step 1 made %d",
                           m->name, r + 1, p.n, count);
        for (int k = 0; st == CG_OK && k < count; k++) {
            double us = cg__profile_event_us(p.rec[k].event);
            if (us < 0)
                st = cg__error(CG_ERR_OPENCL,
                               "no profiling time for %s (%s); the queue must "
                               "be made with profiling on",
                               p.rec[k].kernel, p.rec[k].label);
            times[(size_t)k * (size_t)repeats + (size_t)r] = us;
        }
        cg__profile_clear(&p);
    }
    for (int k = 0; st == CG_OK && k < count; k++)
        launches[k].us = median(times + (size_t)k * (size_t)repeats, repeats);
    cg__profile_free(&p);
    free(times);
    if (st != CG_OK) {
        free(launches);
        return st;
    }
    *out = launches;
    *n = count;
    return CG_OK;
}

/* ---- op cases ---- */

cg_status cg_bench_op_time(cg_context *ctx, const cg_op_case *c, int repeats, cg_bench_op *out) {
    memset(out, 0, sizeof *out);
    cg_op_shapes sh;
    cg_dtype types[CG_MAX_INPUTS];
    cg_status st = cg_op_case_shapes(c, types, &sh);
    if (st != CG_OK)
        return st;
    const cg_op_def *op = cg_op_find(c->op);
    uint32_t state = 0x2545f491u;
    size_t n_out = cg_shape_numel(&sh.out);
    cg_op_host_io io = {.op = op, .attrs = &c->attrs, .n_in = c->n_in, .training = !c->eval,
                        .seed = {1, 2}, .counter = 3};
    float *fresh[2 * CG_MAX_INPUTS + 2 * CG_MAX_PARAMS + 2] = {0};
    int k = 0;
    for (int i = 0; i < c->n_in; i++) {
        size_t n = cg_shape_numel(&c->shape[i]);
        io.in_shape[i] = c->shape[i];
        io.in_type[i] = types[i];
        io.in[i] = fresh[k++] = cg_op_case_draw(n, c->gen[i], c->label_range, &state);
        io.want_din[i] = c->grad[i] && op->backward;
        io.din[i] = io.want_din[i] ? (fresh[k++] = malloc(n * sizeof(float))) : NULL;
    }
    for (int i = 0; i < sh.n_params; i++) {
        size_t n = cg_shape_numel(&sh.params[i]);
        io.params[i] = fresh[k++] = cg_op_case_draw(n, CG_GEN_NORMAL, 0, &state);
        io.dparams[i] = fresh[k++] = malloc(n * sizeof(float));
    }
    io.out = fresh[k++] = malloc((n_out ? n_out : 1) * sizeof(float));
    io.dout = op->backward ? (fresh[k++] = cg_op_case_draw(n_out, CG_GEN_NORMAL, 0, &state)) : NULL;
    for (int i = 0; i < k; i++)
        if (!fresh[i])
            st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the inputs of %s", c->op);
    double *times = calloc((size_t)(repeats > 0 ? repeats : 1) * 2, sizeof *times);
    if (!times && st == CG_OK)
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d timings", repeats);
    cg__profiler p = {0};
    for (int r = -1; st == CG_OK && r < repeats; r++) { /* run -1 warms up and compiles */
        cg__profile_attach(ctx, r < 0 ? NULL : &p);
        st = cg_op_run_host(ctx, &io, NULL);
        cg__profile_attach(ctx, NULL);
        if (st == CG_OK)
            st = cg_context_finish(ctx);
        for (size_t j = 0; st == CG_OK && r >= 0 && j < p.n; j++) {
            int pass = strcmp(p.rec[j].label, "backward") == 0;
            double us = cg__profile_event_us(p.rec[j].event);
            if (us < 0)
                st = cg__error(CG_ERR_OPENCL, "no profiling time for %s; the queue must be made "
                                              "with profiling on", p.rec[j].kernel);
            times[(size_t)pass * repeats + r] += us;
            if (r > 0)
                continue;
            out->launches[pass]++;
            out->flops[pass] += p.rec[j].flops;
            out->bytes[pass] += p.rec[j].bytes;
            size_t len = strlen(out->kernels[pass]);
            if (len + strlen(p.rec[j].kernel) + 2 < sizeof out->kernels[pass])
                snprintf(out->kernels[pass] + len, sizeof out->kernels[pass] - len, "%s%s",
                         len ? " " : "", p.rec[j].kernel);
        }
        cg__profile_clear(&p);
    }
    cg__profile_free(&p);
    for (int pass = 0; st == CG_OK && repeats > 0 && pass < 2; pass++)
        out->us[pass] = median(times + (size_t)pass * repeats, repeats);
    free(times);
    for (int i = 0; i < k; i++)
        free(fresh[i]);
    return st;
}
