/* The experiment runner (see runner.h). The training split and the evaluation splits are
 * uploaded once; each epoch uploads one shuffled index buffer, and each step gathers its batch
 * on the device, so the host only enqueues work and reads the accumulator at log intervals. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/data.h"
#include "exp/experiment.h"
#include "pipelines/pipeline.h"
#include "graph/params.h"
#include "pipelines/runner.h"

double cg_t95(int df) {
    static const double t[] = {0,      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                               2.306,  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                               2.120,  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                               2.064,  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1)
        return NAN;
    return df <= 30 ? t[df] : df <= 60 ? 2.000 : df <= 120 ? 1.980 : 1.960;
}

/* A split's arrays on the device, which graph input each feeds (-1: none), and for an
 * evaluation split its padded index buffer. */
typedef struct device_split {
    const cg_split *split;
    cl_mem arrays[CG_MAX_ARRAYS];
    int feeds[CG_MAX_ARRAYS];
    cl_mem eval_index;
} device_split;

static cg_status upload_split(cg_context *ctx, const cg_split *s, device_split *out) {
    memset(out, 0, sizeof *out);
    out->split = s;
    for (int i = 0; i < s->n_arrays; i++) {
        size_t bytes = cg_shape_numel(&s->arrays[i].shape) * 4;
        cg_status st = cg__buffer_create(ctx, bytes, &out->arrays[i]);
        if (st == CG_OK)
            st = cg__buffer_write(ctx, out->arrays[i], s->arrays[i].data, bytes);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

static void free_split(device_split *d) {
    for (int i = 0; i < CG_MAX_ARRAYS; i++)
        if (d->arrays[i])
            clReleaseMemObject(d->arrays[i]);
    if (d->eval_index)
        clReleaseMemObject(d->eval_index);
}

/* Matches a split's arrays to the graph's inputs by name, once per stage: the graph was built
 * on the training split's arrays, and an input the model reads must exist in every split fed. */
static cg_status plan_feeds(const cg_exp_graph *eg, const cg_split *train, device_split *ds) {
    for (int k = 0; k < CG_MAX_ARRAYS; k++)
        ds->feeds[k] = -1;
    for (int i = 0; i < train->n_arrays; i++) {
        int v = eg->inputs[i], k = -1;
        if (v < 0 || !cg_graph_value_used(eg->graph, v))
            continue;
        for (int j = 0; j < ds->split->n_arrays; j++)
            if (strcmp(ds->split->arrays[j].name, train->arrays[i].name) == 0)
                k = j;
        if (k < 0)
            return cg__error(CG_ERR_INVALID_ARGUMENT,
                             "split '%s' has no array '%s', which the model reads",
                             ds->split->name, train->arrays[i].name);
        ds->feeds[k] = v;
    }
    return CG_OK;
}

/* Fills the graph's inputs with rows index[off .. off + batch) of a split. */
static cg_status gather(cg_context *ctx, const cg_exp_graph *eg, const device_split *from,
                        cl_mem index, size_t off, int batch) {
    for (int k = 0; k < from->split->n_arrays; k++) {
        if (from->feeds[k] < 0)
            continue;
        size_t row = cg_shape_numel(&from->split->arrays[k].shape) /
                     (size_t)from->split->arrays[k].shape.d[0];
        const cg__karg args[] = {CG_KMEM((cl_mem){cg_graph_value_mem(eg->graph, from->feeds[k])}),
                                 CG_KMEM(from->arrays[k]), CG_KMEM(index), CG_KU32(off),
                                 CG_KU32(row), CG_KU32(batch)};
        cg_status st = cg__kernel_run1d(ctx, "core.cl", "gather_rows", row * (size_t)batch, 0, args,
                                        6);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

/* One row of metrics.csv, kept in memory for the summary too. */
typedef struct record {
    char variant[CG_EXP_NAME], split[24], metric[CG_EXP_NAME];
    int repeat, epoch;
    double value;
} record;

typedef struct recorder {
    record *rows;
    size_t n, cap;
    FILE *csv;
} recorder;

static void record_value(recorder *r, const char *variant, int repeat, int epoch,
                         const char *split, const char *metric, double value) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        record *rows = realloc(r->rows, cap * sizeof *rows);
        if (!rows)
            return;
        r->rows = rows;
        r->cap = cap;
    }
    record *x = &r->rows[r->n++];
    cg__copy_str(x->variant, sizeof x->variant, variant);
    cg__copy_str(x->split, sizeof x->split, split);
    cg__copy_str(x->metric, sizeof x->metric, metric);
    x->repeat = repeat;
    x->epoch = epoch;
    x->value = value;
    if (r->csv) {
        fprintf(r->csv, "%s,%d,%d,%s,%s,%.6g\n", variant, repeat, epoch, split, metric, value);
        fflush(r->csv);
    }
}

/* The index buffer of an evaluation split: every sample once, then padding up to a whole batch
 * (repeating the last sample, masked out by the valid-row count). */
static cg_status eval_index(cg_context *ctx, device_split *ds, int batch) {
    int n = cg_split_count(ds->split);
    int *idx = malloc((size_t)(n + batch) * sizeof *idx);
    if (!idx)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d indices", n);
    for (int i = 0; i < n + batch; i++)
        idx[i] = i < n ? i : n - 1;
    cg_status st = cg__buffer_create(ctx, (size_t)(n + batch) * sizeof *idx, &ds->eval_index);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, ds->eval_index, idx, (size_t)(n + batch) * sizeof *idx);
    free(idx);
    return st;
}

/* Evaluates one split: every sample once, the last batch masked. */
static cg_status evaluate(cg_context *ctx, const cg_exp_stage *sg, const cg_exp_graph *eg,
                          const device_split *ds, int batch, double *out) {
    int n = cg_split_count(ds->split);
    cg_status st = cg_graph_reset_accumulator(eg->graph);
    for (int at = 0; st == CG_OK && at < n; at += batch) {
        cg_graph_set_valid_rows(eg->graph, n - at < batch ? n - at : 0);
        st = gather(ctx, eg, ds, ds->eval_index, (size_t)at, batch);
        if (st == CG_OK)
            st = cg_graph_forward(eg->graph, false);
    }
    cg_graph_set_valid_rows(eg->graph, 0);
    float acc[CG_GRAPH_ACC_SLOTS];
    if (st == CG_OK)
        st = cg_graph_read_accumulator(eg->graph, acc, CG_GRAPH_ACC_SLOTS);
    for (int m = 0; st == CG_OK && m < sg->n_metrics; m++)
        out[m] = acc[eg->metric_slots[m]] / (double)n;
    return st;
}

static void progress(const cg_run_options *o, const char *run, int epoch, int epochs, int step,
                     int steps, double loss, double rate, double eta) {
    if (!o->progress_bar)
        return;
    char bar[21];
    int fill = steps ? step * 20 / steps : 0;
    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r  %s epoch %d/%d [%s] loss %.4f  %.0f samples/s  ETA %.0f s   ", run, epoch,
            epochs, bar, loss, rate, eta);
    fflush(stderr);
}

/* What one (variant, repeat) shares across its stages. */
typedef struct repeat_state {
    const cg_run_options *o;
    cg_context *ctx;
    const cg_experiment *e;
    cg_dataset *data;
    cg_param_store *store;
    const char *vname;
    int repeat;
    uint64_t seed;
    int epoch_base; /* epochs of the stages before: metrics.csv counts epochs across stages */
    double train_s;
    long trained;
    recorder *rec;
} repeat_state;

static cg_status run_stage(repeat_state *rs, int k, bool strict_init, const char *init) {
    const cg_experiment *e = rs->e;
    const cg_exp_stage *sg = &e->stages[k];
    cg_context *ctx = rs->ctx;
    cg_split *train = cg_dataset_find(rs->data, sg->split);
    device_split dtrain = {0}, deval[CG_MAX_SPLITS] = {{0}};
    cg_exp_graph eg = {0};
    cl_mem index = NULL;
    int *idx = NULL;
    cg_status st = CG_OK;
    if (!train)
        st = cg__error(CG_ERR_INVALID_ARGUMENT, "the %s data has no split '%s'", e->data.pipeline,
                       sg->split);
    int n = train ? cg_split_count(train) : 0, batch = e->batch;
    int epochs = rs->o->epochs ? rs->o->epochs : sg->epochs;
    if (st == CG_OK && n < batch)
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "split '%s' has %d samples, fewer than one batch of %d; lower train.batch "
                       "or raise the data's size",
                       sg->split, n, batch);
    if (st == CG_OK)
        st = upload_split(ctx, train, &dtrain);
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
        cg_split *sp = cg_dataset_find(rs->data, sg->eval_splits[s]);
        st = sp ? upload_split(ctx, sp, &deval[s])
                : cg__error(CG_ERR_INVALID_ARGUMENT, "the %s data has no split '%s'",
                            e->data.pipeline, sg->eval_splits[s]);
    }
    if (st == CG_OK)
        st = cg_experiment_build(e, k, ctx, train, batch, rs->seed, &eg);
    if (st == CG_OK)
        st = plan_feeds(&eg, train, &dtrain);
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
        st = plan_feeds(&eg, train, &deval[s]);
        if (st == CG_OK)
            st = eval_index(ctx, &deval[s], batch);
    }
    /* Parameters trained by earlier stages (or loaded with --init) carry over by name. */
    if (st == CG_OK)
        st = cg_param_store_give(rs->store, eg.graph, strict_init, init ? init : "the earlier stages");
    if (st == CG_OK && !(idx = malloc((size_t)n * sizeof *idx)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d indices", n);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, (size_t)n * sizeof *idx, &index);
    int steps = n / batch; /* the last partial batch of an epoch is dropped, as drop_last */
    char run[128];
    if (e->n_stages > 1)
        snprintf(run, sizeof run, "%s #%d %s", rs->vname, rs->repeat + 1, sg->name);
    else
        snprintf(run, sizeof run, "%s #%d", rs->vname, rs->repeat + 1);
    for (int epoch = 1; st == CG_OK && epoch <= epochs; epoch++) {
        cg__rng r;
        cg__rng_init(&r, rs->seed, 0x65700000u + (uint32_t)(rs->epoch_base + epoch));
        for (int i = 0; i < n; i++)
            idx[i] = i;
        cg__rng_shuffle(&r, idx, n);
        st = cg__buffer_write(ctx, index, idx, (size_t)n * sizeof *idx);
        if (st == CG_OK)
            st = cg_graph_reset_accumulator(eg.graph);
        double t0 = cg__now_ms(), loss_sum = 0;
        int logged = 0;
        for (int s = 0; st == CG_OK && s < steps; s++) {
            st = gather(ctx, &eg, &dtrain, index, (size_t)s * (size_t)batch, batch);
            if (st == CG_OK)
                st = cg_graph_forward(eg.graph, true);
            if (st == CG_OK)
                st = cg_graph_backward(eg.graph);
            if (st == CG_OK)
                st = cg_graph_step(eg.graph, &sg->optimizer);
            if (st == CG_OK && ((s + 1) % e->log_interval == 0 || s + 1 == steps)) {
                float acc[1];
                st = cg_graph_read_accumulator(eg.graph, acc, 1);
                loss_sum += acc[0];
                double shown = acc[0] / (s + 1 - logged);
                logged = s + 1;
                if (st == CG_OK)
                    st = cg_graph_reset_accumulator(eg.graph);
                double el = (cg__now_ms() - t0) / 1000;
                double rate = (double)(s + 1) * batch / (el > 0 ? el : 1e-9);
                progress(rs->o, run, epoch, epochs, s + 1, steps, shown, rate,
                         (double)(steps - s - 1) * batch / rate +
                             (double)(epochs - epoch) * steps * batch / rate);
            }
        }
        if (st != CG_OK)
            break;
        double secs = (cg__now_ms() - t0) / 1000;
        rs->train_s += secs;
        rs->trained += (long)steps * batch;
        double epoch_loss = loss_sum / (steps ? steps : 1);
        int global = rs->epoch_base + epoch;
        record_value(rs->rec, rs->vname, rs->repeat, global, sg->split, "loss", epoch_loss);
        char line[1024];
        int used = snprintf(line, sizeof line, "  %s epoch %d/%d: loss %.4f, %.0f samples/s", run,
                            epoch, epochs, epoch_loss, steps * batch / (secs > 0 ? secs : 1e-9));
        for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
            double m[CG_EXP_MAX_METRICS];
            st = evaluate(ctx, sg, &eg, &deval[s], batch, m);
            for (int q = 0; st == CG_OK && q < sg->n_metrics; q++) {
                record_value(rs->rec, rs->vname, rs->repeat, global, sg->eval_splits[s],
                             sg->metrics[q].name, m[q]);
                used += snprintf(line + used, sizeof line - (size_t)used, ", %s %s %.4f",
                                 sg->eval_splits[s], sg->metrics[q].name, m[q]);
            }
        }
        if (rs->o->progress_bar)
            fprintf(stderr, "\r%*s\r", 110, "");
        fprintf(stderr, "%s (%.1f s)\n", line, secs);
    }
    rs->epoch_base += epochs;
    if (st == CG_OK)
        st = cg_param_store_take(rs->store, eg.graph);
    free(idx);
    if (index)
        clReleaseMemObject(index);
    cg_exp_graph_free(&eg);
    free_split(&dtrain);
    for (int s = 0; s < CG_MAX_SPLITS; s++)
        free_split(&deval[s]);
    return st;
}

/* Trains and evaluates one (variant, repeat): every stage in turn, then saves the weights. */
static cg_status run_one(const cg_run_options *o, cg_context *ctx, const cg_experiment *e,
                         int repeat, const char *out_dir, recorder *rec, double *samples_per_s) {
    const char *vname = e->variant[0] ? e->variant : "base";
    cg_data_config cfg = e->data.data;
    cfg.seed = e->data.data.seed + (uint64_t)repeat;
    cg_dataset d;
    cg_status st = cg_data_generate(e->data.pipeline, &cfg, &d);
    if (st != CG_OK)
        return st;
    cg_param_store *store = calloc(1, sizeof *store);
    if (!store) {
        cg_dataset_free(&d);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the parameters");
    }
    const char *init = o->init ? o->init : e->init[0] ? e->init : NULL;
    if (init)
        st = cg_param_store_load(store, init);
    repeat_state rs = {o, ctx, e, &d, store, vname, repeat, cfg.seed, 0, 0, 0, rec};
    for (int k = 0; st == CG_OK && k < e->n_stages; k++)
        st = run_stage(&rs, k, k == 0 && init, init);
    if (st == CG_OK) {
        char path[4400];
        snprintf(path, sizeof path, "%s/weights", out_dir);
        st = cg__mkdir_p(path);
        snprintf(path, sizeof path, "%s/weights/%s-r%d.safetensors", out_dir, vname, repeat + 1);
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg.seed);
        const char *meta[] = {"format", "pt", "experiment", e->data.name, "variant", vname,
                              "seed", seed, "producer", "clgraph " CLGRAPH_VERSION};
        if (st == CG_OK)
            st = cg_param_store_save(store, path, meta, 10);
    }
    *samples_per_s = rs.train_s > 0 ? (double)rs.trained / rs.train_s : 0;
    cg_param_store_free(store);
    free(store);
    cg_dataset_free(&d);
    return st;
}

/* Mean and 95% interval of the final-epoch values of (variant, split, metric). */
static int final_values(const recorder *r, const char *variant, const char *split,
                        const char *metric, int epoch, double *vals, int cap) {
    int n = 0;
    for (size_t i = 0; i < r->n && n < cap; i++) {
        const record *x = &r->rows[i];
        if (x->epoch == epoch && !strcmp(x->variant, variant) && !strcmp(x->split, split) &&
            !strcmp(x->metric, metric))
            vals[n++] = x->value;
    }
    return n;
}

static void mean_ci(const double *v, int n, double *mean, double *ci) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    *mean = n ? s / n : NAN;
    for (int i = 0; i < n; i++)
        q += (v[i] - *mean) * (v[i] - *mean);
    *ci = n > 1 ? cg_t95(n - 1) * sqrt(q / (n - 1)) / sqrt((double)n) : NAN;
}

static cg_status write_device(const cg_context *ctx, const char *dir) {
    char path[4400];
    snprintf(path, sizeof path, "%s/device.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return cg__error(CG_ERR_IO, "cannot write %s", path);
    const cg_device_info *d = cg_context_device(ctx);
    fprintf(f, "device %d:%d %s\nvendor %s\ntype %s\nplatform %s (%s)\ndriver %s\n%s\n"
               "compute units %u at %u MHz\nglobal memory %llu bytes\nclgraph %s\n",
            d->platform_index, d->device_index, d->name, d->vendor, cg_device_type_str(d->type),
            d->platform_name, d->platform_version, d->driver_version, d->device_version,
            d->compute_units, d->clock_mhz, (unsigned long long)d->global_mem, CLGRAPH_VERSION);
    return fclose(f) == 0 ? CG_OK : cg__error(CG_ERR_IO, "writing %s failed", path);
}

cg_status cg_run(const cg_run_options *o) {
    static cg_experiment base, e;
    cg_status st = cg_experiment_load(o->file, NULL, o->sets, o->n_sets, &base);
    if (st != CG_OK)
        return st;
    int n_runs = base.n_variants ? base.n_variants : 1;
    if (o->variant) {
        bool found = false;
        for (int i = 0; i < base.n_variants; i++)
            found = found || !strcmp(base.variants[i], o->variant);
        if (!found)
            return cg__error(CG_ERR_NOT_FOUND, "%s has no variant '%s'", o->file, o->variant);
        n_runs = 1;
    }
    char dir[4096];
    if (o->out_dir) {
        snprintf(dir, sizeof dir, "%s", o->out_dir);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(dir, sizeof dir, "runs/%s/%s", base.data.name, stamp);
    }
    if ((st = cg__mkdir_p(dir)) != CG_OK)
        return st;
    cg_context_options copt = {.device = o->device ? o->device
                                         : base.device[0] ? base.device
                                                          : NULL};
    cg_context *ctx;
    if ((st = cg_context_create(&copt, &ctx)) != CG_OK)
        return st;
    const cg_device_info *dev = cg_context_device(ctx);
    fprintf(stderr, "running '%s' (%s) on %s; results in %s\n", base.data.name, o->file, dev->name,
            dir);
    st = write_device(ctx, dir);
    recorder rec = {0};
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (st == CG_OK && !(rec.csv = fopen(path, "w")))
        st = cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (rec.csv)
        fprintf(rec.csv, "variant,repeat,epoch,split,metric,value\n");
    char variants[CG_EXP_MAX_VARIANTS][CG_EXP_NAME + 1];
    double rates[CG_EXP_MAX_VARIANTS] = {0};
    int repeats = o->repeats ? o->repeats : base.repeats;
    for (int v = 0; st == CG_OK && v < n_runs; v++) {
        const char *variant = o->variant ? o->variant : base.n_variants ? base.variants[v] : NULL;
        st = cg_experiment_load(o->file, variant, o->sets, o->n_sets, &e);
        cg__copy_str(variants[v], CG_EXP_NAME, variant ? variant : "base");
        snprintf(path, sizeof path, "%s/descriptor-%.47s.yaml", dir, variants[v]);
        if (st == CG_OK)
            st = cg_experiment_write_resolved(o->file, variant, o->sets, o->n_sets, path);
        for (int r = 0; st == CG_OK && r < repeats; r++) {
            double rate = 0;
            st = run_one(o, ctx, &e, r, dir, &rec, &rate);
            rates[v] += rate / repeats;
        }
    }
    if (rec.csv)
        fclose(rec.csv);
    if (st == CG_OK) {
        /* summary.json and the table: the last epoch's values over the repeats. */
        snprintf(path, sizeof path, "%s/summary.json", dir);
        FILE *js = fopen(path, "w");
        if (!js)
            st = cg__error(CG_ERR_IO, "cannot write %s", path);
        /* The table shows the last stage's evaluation at the last epoch of the run. */
        const cg_exp_stage *last = &e.stages[e.n_stages - 1];
        int epochs = 0;
        for (int k = 0; k < e.n_stages; k++)
            epochs += o->epochs ? o->epochs : e.stages[k].epochs;
        if (js) {
            fprintf(js, "{\n  \"experiment\": \"%s\",\n  \"file\": \"%s\",\n  \"device\": \"%s\",\n"
                        "  \"repeats\": %d,\n  \"epochs\": %d,\n  \"variants\": {",
                    base.data.name, o->file, dev->name, repeats, epochs);
        }
        int width = 8;
        for (int v = 0; v < n_runs; v++)
            width = (int)strlen(variants[v]) > width ? (int)strlen(variants[v]) : width;
        printf("\n%-*s", width, "variant");
        for (int s = 0; s < last->n_eval_splits; s++)
            for (int k = 0; k < last->n_metrics; k++) {
                char h[64];
                snprintf(h, sizeof h, "%s %s", last->eval_splits[s], last->metrics[k].name);
                printf("  %-23s", h);
            }
        printf("  %s\n", "samples/s");
        for (int v = 0; v < n_runs; v++) {
            printf("%-*s", width, variants[v]);
            if (js)
                fprintf(js, "%s\n    \"%s\": {\"samples_per_s\": %.1f, \"metrics\": {", v ? "," : "",
                        variants[v], rates[v]);
            bool first = true;
            for (int s = 0; s < last->n_eval_splits; s++)
                for (int k = 0; k < last->n_metrics; k++) {
                    double vals[1000], mean, ci;
                    int n = final_values(&rec, variants[v], last->eval_splits[s],
                                         last->metrics[k].name, epochs, vals, 1000);
                    mean_ci(vals, n, &mean, &ci);
                    char cell[64];
                    if (isnan(ci))
                        snprintf(cell, sizeof cell, "%.4f", mean);
                    else
                        snprintf(cell, sizeof cell, "%.4f ± %.4f", mean, ci);
                    printf("  %-23s", cell);
                    if (js) {
                        char cis[32] = "null";
                        if (!isnan(ci))
                            snprintf(cis, sizeof cis, "%.6g", ci);
                        fprintf(js, "%s\n      \"%s/%s\": {\"mean\": %.6g, \"ci95\": %s, "
                                    "\"values\": [",
                                first ? "" : ",", last->eval_splits[s], last->metrics[k].name,
                                mean, cis);
                        for (int i = 0; i < n; i++)
                            fprintf(js, "%s%.6g", i ? ", " : "", vals[i]);
                        fprintf(js, "]}");
                    }
                    first = false;
                }
            printf("  %.0f\n", rates[v]);
            if (js)
                fprintf(js, "\n    }}");
        }
        printf("(final epoch, mean ± 95%% confidence interval over %d repeat%s, Student t)\n",
               repeats, repeats == 1 ? "" : "s");
        if (js) {
            fprintf(js, "\n  }\n}\n");
            fclose(js);
        }
        fprintf(stderr, "results: %s (metrics.csv, summary.json, weights/, descriptor-*.yaml, "
                        "device.txt)\n",
                dir);
    }
    free(rec.rows);
    cg_context_destroy(ctx);
    return st;
}
