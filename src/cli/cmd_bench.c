/* `clgraph bench`: the device's roofline, then every kernel launch of a training step of each
 * seed model (the .yaml files of experiments/bench) at each batch size, timed with profiling
 * events; with
 * --models, each model's training step end to end in the PyTorch peer script's row format.
 * --json saves the figures, --compare sets them against a saved run, --peer against the peer
 * script's output. */
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "report/json.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "exp/ydoc.h"
#include "ops/ops.h"

#define MAX_MODELS  16
#define MAX_BATCHES 8
#define MAX_RUNS    (MAX_MODELS * MAX_BATCHES)

typedef struct run_result {
    char model[64];
    int batch;
    size_t params;
    int launches;
    double step_ms;   /* end to end (--models); 0 when not timed */
    double kernel_us; /* the sum of the launches' medians; 0 when not profiled */
    bool can_replay;  /* the timed steps could be replayed (CLGRAPH_REPLAY) */
    cg_replay_stats replay;
    cg_bench_launch *launches_at;
    int n_launches;
} run_result;

/* One op case timed (--ops). */
typedef struct op_result {
    const cg_op_case *c;
    cg_bench_op r;
} op_result;

#define MAX_OP_ROWS 256

typedef struct bench_opts {
    const char *pattern; /* --kernels */
    bool kernels, models;
    bool ops;                /* --ops */
    const char *ops_pattern; /* its glob over op names and case labels; NULL: see op_wanted */
    int batches[MAX_BATCHES], n_batches;
    int steps, repeats; /* 0: chosen by time */
    char files[MAX_MODELS][1024];
    int n_files;
    cg_ydoc *before; /* --compare */
} bench_opts;

/* ---- the models' files ---- */

static int cmp_str(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static const char *default_models_dir(void) {
    struct stat s;
    if (stat("experiments/bench", &s) == 0 && S_ISDIR(s.st_mode)) return "experiments/bench";
    if (stat(CLGRAPH_SOURCE_BENCH_DIR, &s) == 0 && S_ISDIR(s.st_mode))
        return CLGRAPH_SOURCE_BENCH_DIR;
    return CLGRAPH_INSTALL_BENCH_DIR;
}

/* Every .yaml file of dir, sorted, or only those named in `only` (comma-separated). */
static int find_models(const char *dir, const char *only, bench_opts *o) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr,
                "clgraph bench: error: cannot read the model folder %s; give one with "
                "--models-dir DIR\n",
                dir);
        return CLI_FAILED;
    }
    char names[MAX_MODELS][256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 && n < MAX_MODELS && len < 250)
            snprintf(names[n++], 256, "%.*s", (int)len - 5, e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    char want[512] = "";
    if (only) snprintf(want, sizeof want, ",%s,", only);
    for (int i = 0; i < n; i++) {
        char key[260];
        snprintf(key, sizeof key, ",%.200s,", names[i]);
        if (!only || strstr(want, key))
            snprintf(o->files[o->n_files++], sizeof o->files[0], "%.700s/%.200s.yaml", dir,
                     names[i]);
    }
    if (only) { /* every name asked for must exist */
        char copy[512];
        snprintf(copy, sizeof copy, "%s", only);
        for (char *t = strtok(copy, ","); t; t = strtok(NULL, ",")) {
            bool found = false;
            for (int i = 0; i < n; i++)
                found = found || strcmp(names[i], t) == 0;
            if (!found) {
                fprintf(stderr,
                        "clgraph bench: error: --model %s: no %s/%s.yaml; the models are:", t, dir,
                        t);
                for (int i = 0; i < n; i++)
                    fprintf(stderr, " %s", names[i]);
                fprintf(stderr, "\n");
                return CLI_USAGE;
            }
        }
    }
    if (o->n_files == 0) {
        fprintf(stderr, "clgraph bench: error: no model files (*.yaml) in %s\n", dir);
        return CLI_FAILED;
    }
    return CLI_OK;
}

static int parse_batches(const char *v, bench_opts *o) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", v);
    for (char *t = strtok(copy, ","); t; t = strtok(NULL, ",")) {
        if (o->n_batches == MAX_BATCHES) {
            fprintf(stderr, "clgraph bench: error: --batch: at most %d sizes\n", MAX_BATCHES);
            return CLI_USAGE;
        }
        int rc = cli_positive("bench", "--batch", t, &o->batches[o->n_batches++]);
        if (rc != CLI_OK) return rc;
    }
    return o->n_batches ? CLI_OK : cli_positive("bench", "--batch", v, &o->batches[0]);
}

/* ---- a saved run (--compare) ---- */

static double num(const cg_ynode *map, const char *key) {
    const cg_ynode *v = map ? cg_ymap_get(map, key) : NULL;
    return v && v->kind == CG_YSCALAR ? strtod(v->value, NULL) : -1;
}

static const char *str(const cg_ynode *map, const char *key) {
    const cg_ynode *v = map ? cg_ymap_get(map, key) : NULL;
    return v && v->kind == CG_YSCALAR ? v->value : "";
}

/* The saved device entry of this device's name, else the only one. */
static const cg_ynode *before_device(const cg_ydoc *doc, const cg_device_info *d) {
    const cg_ynode *devs = doc && doc->root ? cg_ymap_get(doc->root, "devices") : NULL;
    if (!devs || devs->kind != CG_YSEQ) return NULL;
    for (int i = 0; i < devs->n; i++)
        if (strcmp(str(devs->items[i], "name"), d->name) == 0) return devs->items[i];
    return devs->n == 1 ? devs->items[0] : NULL;
}

/* The saved list entry (kernels or models) for a model and batch; for kernels also the index k
 * of the launch in the step, whose label and kernel must match. */
static const cg_ynode *before_entry(const cg_ynode *dev, const char *list, const char *model,
                                    int batch, int k, const cg_bench_launch *l) {
    const cg_ynode *s = dev ? cg_ymap_get(dev, list) : NULL;
    if (!s || s->kind != CG_YSEQ) return NULL;
    for (int i = 0; i < s->n; i++) {
        const cg_ynode *e = s->items[i];
        if (strcmp(str(e, "model"), model) != 0 || (int)num(e, "batch") != batch) continue;
        if (!l) return e;
        if ((int)num(e, "index") == k && strcmp(str(e, "kernel"), l->kernel) == 0 &&
            strcmp(str(e, "label"), l->label) == 0)
            return e;
    }
    return NULL;
}

static void print_change(double before, double now) {
    if (before > 0 && now > 0)
        printf("  %10.2f %+7.1f%%", before, 100.0 * (now - before) / before);
    else
        printf("  %10s %8s", "-", "new");
}

/* ---- the kernel table ---- */

static bool wanted(const bench_opts *o, const cg_bench_launch *l) {
    return !o->pattern || fnmatch(o->pattern, l->kernel, 0) == 0 ||
           fnmatch(o->pattern, l->label, 0) == 0;
}

static void print_kernels(const bench_opts *o, const cg_bench_peak *peak, const run_result *r,
                          const cg_ynode *before) {
    printf("\n%s, batch %d: %d launches per step, %.3f ms of kernel time per step\n", r->model,
           r->batch, r->n_launches, r->kernel_us / 1000);
    printf("  %-30s %-26s %10s %10s %9s %9s %6s", "node", "kernel", "items", "time_us", "GFLOP/s",
           "GB/s", "%peak");
    if (o->before) printf("  %10s %8s", "before_us", "change");
    printf("\n");
    for (int k = 0; k < r->n_launches; k++) {
        const cg_bench_launch *l = &r->launches_at[k];
        if (!wanted(o, l)) continue;
        double s = l->us > 0 ? l->us * 1e3 : 1e300;
        char gf[16] = "-";
        if (l->flops > 0) snprintf(gf, sizeof gf, "%.2f", l->flops / s);
        printf("  %-30.30s %-26.26s %10zu %10.2f %9s %9.2f %5.1f%%", l->label, l->kernel, l->items,
               l->us, gf, l->bytes / s, 100 * cg_bench_fraction(l, peak));
        if (o->before) {
            const cg_ynode *e = before_entry(before, "kernels", r->model, r->batch, k, l);
            print_change(e ? num(e, "us") : -1, l->us);
        }
        printf("\n");
    }
    /* What limits the step: its three slowest launches. */
    int top[3] = {-1, -1, -1};
    for (int k = 0; k < r->n_launches; k++)
        for (int t = 0; t < 3; t++)
            if (top[t] < 0 || r->launches_at[k].us > r->launches_at[top[t]].us) {
                for (int u = 2; u > t; u--)
                    top[u] = top[u - 1];
                top[t] = k;
                break;
            }
    printf("  slowest:");
    for (int t = 0; t < 3 && top[t] >= 0; t++) {
        const cg_bench_launch *l = &r->launches_at[top[t]];
        printf("%s %s (%s) %.1f us, %.1f%% of peak", t ? ";" : "", l->kernel, l->label, l->us,
               100 * cg_bench_fraction(l, peak));
    }
    printf("\n");
}

/* ---- one device ---- */

static int choose(int given, double per_step_ms, double budget_ms, int lo, int hi) {
    if (given) return given;
    int n = per_step_ms > 0 ? (int)(budget_ms / per_step_ms) : hi;
    return n < lo ? lo : n > hi ? hi : n;
}

/* ---- op cases (--ops) ---- */

/* With a pattern, every case whose op or label matches it; without, the benchmark rows (the
 * seed models' shapes) and the first test row of each op that has none, so that every op shows
 * once. */
static bool op_wanted(const bench_opts *o, size_t i) {
    const cg_op_case *c = cg_op_case_at(i);
    if (o->ops_pattern)
        return fnmatch(o->ops_pattern, c->op, 0) == 0 ||
               (c->label && fnmatch(o->ops_pattern, c->label, 0) == 0);
    if (c->bench)
        return true;
    for (size_t j = 0; j < cg_op_case_count(); j++)
        if (strcmp(cg_op_case_at(j)->op, c->op) == 0)
            return j == i && !cg_op_case_has_bench_row(c->op);
    return false;
}

static cg_status bench_ops(const bench_opts *o, cg_context *ctx, const cg_bench_peak *peak,
                           op_result *rows, int *n_rows) {
    printf("\nop cases: each pass's device time (median of %d runs after a warm-up)\n",
           o->repeats ? o->repeats : 5);
    printf("  %-22s %-18s %-22s %-8s %8s %10s %9s %8s %6s  %s\n", "op", "case", "input",
           "pass", "launches", "time_us", "GFLOP/s", "GB/s", "%peak", "kernels");
    cg_status st = CG_OK;
    for (size_t i = 0; st == CG_OK && i < cg_op_case_count() && *n_rows < MAX_OP_ROWS; i++) {
        if (!op_wanted(o, i))
            continue;
        op_result *row = &rows[(*n_rows)++];
        row->c = cg_op_case_at(i);
        st = cg_bench_op_time(ctx, row->c, o->repeats ? o->repeats : 5, &row->r);
        if (st != CG_OK)
            return cg__error_prefix(st, "op case %s %s", row->c->op,
                                    row->c->label ? row->c->label : "");
        char shape[64];
        cg_shape_str(&row->c->shape[0], shape, sizeof shape);
        for (int pass = 0; pass < 2; pass++) {
            if (row->r.launches[pass] == 0)
                continue;
            cg_bench_launch l = {.us = row->r.us[pass], .flops = row->r.flops[pass],
                                 .bytes = row->r.bytes[pass]};
            double us = row->r.us[pass] > 0 ? row->r.us[pass] : 1e-9;
            char gflops[16] = "-";
            if (l.flops > 0)
                snprintf(gflops, sizeof gflops, "%.2f", l.flops / (us * 1e3));
            printf("  %-22s %-18s %-22s %-8s %8d %10.2f %9s %8.2f %5.1f%%  %s\n", row->c->op,
                   row->c->label ? row->c->label : "test", shape,
                   pass ? "backward" : "forward", row->r.launches[pass], row->r.us[pass], gflops,
                   l.bytes / (us * 1e3), 100 * cg_bench_fraction(&l, peak), row->r.kernels[pass]);
        }
        fflush(stdout);
    }
    if (*n_rows == 0)
        printf("  no op case matches '%s'; ops are named as in `clgraph validate` (conv2d, "
               "linear, ...) and benchmark rows by layer ('lenet*')\n",
               o->ops_pattern ? o->ops_pattern : "");
    return st;
}

static cg_status bench_device(const bench_opts *o, const char *spec, bool no_cache,
                              cg_bench_peak *peak, run_result *runs, int *n_runs,
                              op_result *op_rows, int *n_op_rows, cg_device_info *info) {
    /* Autotune as a run does: the first step of each model measures the convolution shapes
     * that the tuning file has no choice for (CLGRAPH_AUTOTUNE=0: the defaults). */
    cg_context_options co = {
        .device = spec, .profiling = true, .no_cache = no_cache, .autotune = true};
    cg_context *ctx = NULL;
    cg_status st = cg_context_create(&co, &ctx);
    if (st != CG_OK) return st;
    *info = *cg_context_device(ctx);
    const cg_ynode *before = before_device(o->before, info);
    printf("device %d:%d %s (%s, %s, driver %s)\ntuning: %s\n", info->platform_index,
           info->device_index, info->name, cg_device_type_str(info->type), info->platform_name,
           info->driver_version, cg_context_tuning(ctx));
    st = cg_bench_peak_measure(ctx, peak);
    if (st == CG_OK) {
        printf("peak: %.1f GFLOP/s multiply-add, %.1f GB/s copy", peak->gflops, peak->gbps);
        if (before) {
            const cg_ynode *p = cg_ymap_get(before, "peak");
            printf(" (before: %.1f GFLOP/s, %.1f GB/s)", num(p, "gflops"), num(p, "gbps"));
        }
        printf("\n");
        fflush(stdout);
    }
    if (st == CG_OK && o->ops)
        st = bench_ops(o, ctx, peak, op_rows, n_op_rows);
    /* Each model at each batch: profiled launch by launch, then (--models) timed end to end on
     * a queue without profiling. */
    cg_context *plain = NULL;
    if (st == CG_OK && o->models) {
        char exact[32];
        snprintf(exact, sizeof exact, "%d:%d", info->platform_index, info->device_index);
        cg_context_options po = {.device = exact, .no_cache = no_cache, .autotune = true};
        st = cg_context_create(&po, &plain);
    }
    if (st == CG_OK && o->models)
        printf("\n%-8s %-60s\n", "model", "training step, end to end (the PyTorch peer's rows)");
    for (int f = 0; st == CG_OK && (o->kernels || o->models) && f < o->n_files; f++)
        for (int b = 0; st == CG_OK && b < o->n_batches; b++) {
            run_result *r = &runs[(*n_runs)++];
            memset(r, 0, sizeof *r);
            cg_bench_model *m = NULL;
            r->batch = o->batches[b];
            st = cg_bench_model_open(ctx, o->files[f], r->batch, &m);
            if (st != CG_OK) break;
            snprintf(r->model, sizeof r->model, "%s", cg_bench_model_name(m));
            r->params = cg_bench_model_params(m);
            double probe_ms = 0;
            st = cg_bench_model_time(m, 2, 2, &probe_ms); /* compiles, warms, and sizes the runs */
            if (st == CG_OK)
                st = cg_bench_model_profile(m, choose(o->repeats, probe_ms, 3000, 3, 25),
                                            &r->launches_at, &r->n_launches);
            cg_bench_model_close(m);
            if (st != CG_OK) break;
            r->launches = r->n_launches;
            for (int k = 0; k < r->n_launches; k++)
                r->kernel_us += r->launches_at[k].us;
            if (o->kernels) print_kernels(o, peak, r, before);
            if (!o->models) continue;
            cg_context_reload_tuning(plain); /* with what the profiled steps measured */
            st = cg_bench_model_open(plain, o->files[f], r->batch, &m);
            if (st == CG_OK)
                st = cg_bench_model_time(m, 10, choose(o->steps, probe_ms, 4000, 5, 200),
                                         &r->step_ms);
            r->can_replay = cg_context_replays(plain);
            if (m)
                r->replay = cg_bench_model_replay(m);
            cg_bench_model_close(m);
            if (st != CG_OK) break;
            printf("%-8s compile=opencl clgraph=%s dev=%s:%d:%d launches=%d params=%zu "
                   "batch=%d step_ms=%.3f samples/s=%.0f",
                   r->model, CLGRAPH_VERSION, info->type == CG_DEVICE_CPU ? "cpu" : "gpu",
                   info->platform_index, info->device_index, r->launches, r->params, r->batch,
                   r->step_ms, r->batch * 1000.0 / r->step_ms);
            if (r->kernel_us > 0) /* the profiled kernels' time against the whole step's */
                printf(" busy=%.0f%%", r->kernel_us / 10 / r->step_ms);
            if (r->can_replay) /* of the timed steps and their warm-up */
                printf(" replayed=%u/%u buffers=%u", r->replay.replayed, r->replay.steps,
                       r->replay.segments);
            if (before) {
                const cg_ynode *e = before_entry(before, "models", r->model, r->batch, 0, NULL);
                printf(" before_ms=%.3f", e ? num(e, "step_ms") : -1.0);
            }
            printf("\n");
            fflush(stdout);
        }
    if (cg_context_tuning_fallbacks(ctx))
        printf("tuning: %s\n", cg_context_tuning(ctx));
    cg_context_destroy(plain);
    cg_context_destroy(ctx);
    return st;
}

/* ---- outputs ---- */

static cJSON *device_json(const cg_device_info *d, const cg_bench_peak *p, const run_result *runs,
                          int n, const op_result *op_rows, int n_op_rows) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "platform", d->platform_name);
    cJSON_AddStringToObject(o, "driver", d->driver_version);
    cJSON_AddStringToObject(o, "type", cg_device_type_str(d->type));
    cJSON *peak = cJSON_AddObjectToObject(o, "peak");
    cg_json_add_number(peak, "gflops", p->gflops);
    cg_json_add_number(peak, "gbps", p->gbps);
    cJSON *models = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; models && i < n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToArray(models, m);
        cJSON_AddStringToObject(m, "model", runs[i].model);
        cJSON_AddNumberToObject(m, "batch", runs[i].batch);
        cJSON_AddNumberToObject(m, "params", (double)runs[i].params);
        cJSON_AddNumberToObject(m, "launches", runs[i].launches);
        cg_json_add_number(m, "kernel_ms", runs[i].kernel_us / 1000);
        if (runs[i].step_ms > 0) {
            cg_json_add_number(m, "step_ms", runs[i].step_ms);
            cg_json_add_number(m, "samples_per_s", runs[i].batch * 1000.0 / runs[i].step_ms);
            cg_json_add_number(m, "busy", runs[i].kernel_us / 1000 / runs[i].step_ms);
            if (runs[i].can_replay) {
                cg_json_add_number(m, "replayed_steps", runs[i].replay.replayed);
                cg_json_add_number(m, "command_buffers", runs[i].replay.segments);
            }
        }
    }
    cJSON *kernels = cJSON_AddArrayToObject(o, "kernels");
    for (int i = 0; kernels && i < n; i++)
        for (int k = 0; k < runs[i].n_launches; k++) {
            const cg_bench_launch *l = &runs[i].launches_at[k];
            double s = l->us > 0 ? l->us * 1e3 : 1e300;
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(kernels, x);
            cJSON_AddStringToObject(x, "model", runs[i].model);
            cJSON_AddNumberToObject(x, "batch", runs[i].batch);
            cJSON_AddNumberToObject(x, "index", k);
            cJSON_AddStringToObject(x, "label", l->label);
            cJSON_AddStringToObject(x, "kernel", l->kernel);
            cJSON_AddNumberToObject(x, "items", (double)l->items);
            cg_json_add_number(x, "us", l->us);
            cg_json_add_number(x, "gflops", l->flops / s);
            cg_json_add_number(x, "gbps", l->bytes / s);
            cg_json_add_number(x, "fraction", cg_bench_fraction(l, p));
        }
    cJSON *ops = n_op_rows ? cJSON_AddArrayToObject(o, "ops") : NULL;
    for (int i = 0; ops && i < n_op_rows; i++)
        for (int pass = 0; pass < 2; pass++) {
            const cg_bench_op *r = &op_rows[i].r;
            if (!r->launches[pass])
                continue;
            cJSON *x = cJSON_CreateObject();
            cJSON_AddItemToArray(ops, x);
            char shape[64];
            cg_shape_str(&op_rows[i].c->shape[0], shape, sizeof shape);
            cJSON_AddStringToObject(x, "op", op_rows[i].c->op);
            cJSON_AddStringToObject(x, "case", op_rows[i].c->label ? op_rows[i].c->label : "test");
            cJSON_AddStringToObject(x, "input", shape);
            cJSON_AddStringToObject(x, "pass", pass ? "backward" : "forward");
            cJSON_AddStringToObject(x, "kernels", r->kernels[pass]);
            cJSON_AddNumberToObject(x, "launches", r->launches[pass]);
            cg_bench_launch l = {.us = r->us[pass], .flops = r->flops[pass],
                                 .bytes = r->bytes[pass]};
            double s = r->us[pass] > 0 ? r->us[pass] * 1e3 : 1;
            cg_json_add_number(x, "us", r->us[pass]);
            cg_json_add_number(x, "gflops", r->flops[pass] / s);
            cg_json_add_number(x, "gbps", r->bytes[pass] / s);
            cg_json_add_number(x, "fraction", cg_bench_fraction(&l, p));
        }
    return o;
}

/* Reads the peer script's rows ("lenet compile=eager torch=... batch=64 step_ms=1.6 ...") and
 * prints, per model and batch measured here, both step times and the ratio. */
static int print_peer(const char *path, const run_result *runs, int n) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "clgraph bench: error: --peer %s: cannot read it\n", path);
        return CLI_FAILED;
    }
    printf("\n%-8s %6s %12s %12s  %-28s %8s\n", "model", "batch", "clgraph_ms", "peer_ms", "peer",
           "speedup");
    char line[1024];
    int matched = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], peer[96] = "", dev[32] = "";
        int batch = 0;
        double ms = 0;
        if (sscanf(line, "%63s", name) != 1) continue;
        char *p;
        if ((p = strstr(line, " batch="))) batch = atoi(p + 7);
        if ((p = strstr(line, " step_ms="))) ms = strtod(p + 9, NULL);
        char compile[32] = "", torch[32] = "";
        if ((p = strstr(line, " compile="))) sscanf(p + 9, "%31s", compile);
        if ((p = strstr(line, " torch="))) sscanf(p + 7, "%31s", torch);
        if ((p = strstr(line, " dev="))) sscanf(p + 5, "%31s", dev);
        snprintf(peer, sizeof peer, "torch %s %s %s", torch, compile, dev);
        for (int i = 0; i < n && ms > 0; i++)
            if (strcmp(runs[i].model, name) == 0 && runs[i].batch == batch && runs[i].step_ms > 0) {
                printf("%-8s %6d %12.3f %12.3f  %-28s %7.2fx\n", name, batch, runs[i].step_ms, ms,
                       peer, ms / runs[i].step_ms);
                matched++;
            }
    }
    if (f != stdin) fclose(f);
    if (!matched) printf("(no row of %s matches a model and batch measured here)\n", path);
    printf("speedup: the peer's step time over clgraph's; above 1, clgraph is faster\n");
    return CLI_OK;
}

int cmd_bench(int argc, char **argv) {
    const char *device = NULL, *pattern = NULL, *json = NULL, *compare = NULL, *batch = "64,256";
    const char *dir = NULL, *only = NULL, *steps = NULL, *repeats = NULL, *peer = NULL;
    bool help = false, all = false, models = false, no_cache = false, ops = false;
    const char *positional[1] = {NULL};
    size_t n_positional = 0;
    const cli_option options[] = {
        {"--device", "D", "the device ('P:D', gpu, cpu, or part of a name)", &device, NULL},
        {"--all-devices", NULL, "every device of every platform, one after another", NULL, &all},
        {"--kernels", "PATTERN", "only kernels (or nodes) matching this glob, e.g. 'conv*'",
         &pattern, NULL},
        {"--models", NULL, "time each model's training step end to end (the peer's rows)", NULL,
         &models},
        {"--ops", NULL,
         "time each op case (the seed models' layer shapes and one case of every other op), "
         "forward and backward; a PATTERN after it keeps the ops or cases matching that glob",
         NULL, &ops},
        {"--model", "NAMES", "only these models, comma-separated (default: every file)", &only,
         NULL},
        {"--batch", "SIZES", "batch sizes, comma-separated (default 64,256)", &batch, NULL},
        {"--steps", "N", "timed steps per model (default: about 4 s worth, 5 to 200)", &steps,
         NULL},
        {"--repeats", "N", "profiled steps per model, the median is kept (default: 3 to 25)",
         &repeats, NULL},
        {"--json", "FILE", "also write every figure to FILE as JSON", &json, NULL},
        {"--compare", "FILE", "show the change against a run saved with --json", &compare, NULL},
        {"--peer", "FILE", "the PyTorch peer script's output (- for stdin): print the ratios",
         &peer, NULL},
        {"--models-dir", "DIR", "the model descriptors (default: experiments/bench)", &dir, NULL},
        {"--no-cache", NULL, "compile every program afresh, without the disk cache", NULL,
         &no_cache},
    };
    int rc = cli_parse(
        "bench",
        "[--device D | --all-devices] [--kernels PATTERN] [--models] [--ops [PATTERN]] "
        "[--json FILE] ...",
        "Measures the device's peak (multiply-add throughput and copy bandwidth), then times "
        "every\nkernel launch of a training step of each seed model at each batch size (median "
        "over\nrepeated steps after warm-up): time, GFLOP/s, GB/s and fraction of peak.\n"
        "--models times each model's whole training step and prints it in the row format of the\n"
        "PyTorch peer script (torch_models.py DEVICE BATCH), so that the two compare line by\n"
        "line; with --peer FILE (that script's output) it prints the ratios too.\n"
        "--ops times op cases one at a time instead of the models: each pass's kernels, time,\n"
        "GFLOP/s and fraction of peak ('clgraph bench --ops conv2d', '--ops \"lenet*\"').",
        argc, argv, options, CG__ARRAY_LEN(options), positional, 1, &n_positional, &help);
    if (rc != CLI_OK || help) return rc;
    if (n_positional && !ops) {
        fprintf(stderr,
                "clgraph bench: error: unexpected argument '%s'; a pattern of op cases goes "
                "after --ops (clgraph bench --ops '%s')\n",
                positional[0], positional[0]);
        return CLI_USAGE;
    }
    if (all && device) {
        fprintf(stderr, "clgraph bench: error: give --device or --all-devices, not both\n");
        return CLI_USAGE;
    }
    static bench_opts o;
    memset(&o, 0, sizeof o);
    o.pattern = pattern;
    o.models = models;
    o.ops = ops;
    o.ops_pattern = n_positional ? positional[0] : NULL;
    /* --models alone: only the model rows; --ops alone: only the op cases */
    o.kernels = (!models && !ops) || pattern;
    if ((rc = parse_batches(batch, &o)) != CLI_OK) return rc;
    if (steps && (rc = cli_positive("bench", "--steps", steps, &o.steps)) != CLI_OK) return rc;
    if (repeats && (rc = cli_positive("bench", "--repeats", repeats, &o.repeats)) != CLI_OK)
        return rc;
    if ((rc = find_models(dir ? dir : default_models_dir(), only, &o)) != CLI_OK) return rc;
    if (peer && !models) {
        fprintf(stderr, "clgraph bench: error: --peer compares step times: add --models\n");
        return CLI_USAGE;
    }
    if (compare && cg_ydoc_load(compare, &o.before) != CG_OK) {
        cli_report_error("reading the run to compare with", CG_ERR_PARSE);
        return CLI_FAILED;
    }
    /* The devices: one, or all. */
    char specs[16][32];
    int n_specs = 0;
    if (all) {
        cg_device_info *list = NULL;
        size_t count = 0;
        cg_status st = cg_device_list(&list, &count);
        if (st != CG_OK) {
            cli_report_error("listing the devices", st);
            return CLI_FAILED;
        }
        for (size_t i = 0; i < count && n_specs < 16; i++)
            snprintf(specs[n_specs++], sizeof specs[0], "%d:%d", list[i].platform_index,
                     list[i].device_index);
        free(list);
    } else {
        snprintf(specs[n_specs++], sizeof specs[0], "%s", device ? device : "");
    }
    FILE *probe = json ? fopen(json, "w") : NULL; /* say now, not after minutes, if it fails */
    if (json && !probe) {
        fprintf(stderr, "clgraph bench: error: --json %s: cannot write it\n", json);
        cg_ydoc_free(o.before);
        return CLI_FAILED;
    }
    if (probe) fclose(probe);
    cJSON *doc = json ? cJSON_CreateObject() : NULL;
    cJSON *devices = NULL;
    if (doc) {
        cJSON_AddStringToObject(doc, "clgraph", CLGRAPH_VERSION);
        devices = cJSON_AddArrayToObject(doc, "devices");
    }
    static run_result runs[MAX_RUNS];
    static op_result op_rows[MAX_OP_ROWS];
    int failed = 0;
    for (int d = 0; d < n_specs; d++) {
        int n_runs = 0, n_op_rows = 0;
        cg_bench_peak peak = {0};
        cg_device_info info;
        if (d) printf("\n");
        cg_status st =
            bench_device(&o, specs[d][0] ? specs[d] : NULL, no_cache, &peak, runs, &n_runs,
                         op_rows, &n_op_rows, &info);
        if (st != CG_OK) {
            cli_report_error("benchmarking", st);
            failed++;
        } else {
            if (devices) cJSON_AddItemToArray(devices,
                                 device_json(&info, &peak, runs, n_runs, op_rows, n_op_rows));
            if (peer) print_peer(peer, runs, n_runs);
        }
        for (int i = 0; i < n_runs; i++)
            free(runs[i].launches_at);
    }
    if (doc) {
        if (cg_json_write_file(doc, json) == CG_OK) {
            printf("\nwrote %s\n", json);
        } else {
            cli_report_error("writing --json", CG_ERR_IO);
            failed++;
        }
        cJSON_Delete(doc);
    }
    cg_ydoc_free(o.before);
    return failed ? CLI_FAILED : CLI_OK;
}

int cmd_tune(int argc, char **argv) {
    const char *device = NULL, *batch = "64,256", *dir = NULL, *only = NULL, *repeats = NULL;
    bool help = false;
    const cli_option options[] = {
        {"--device", "D", "the device ('P:D', gpu, cpu, or part of a name)", &device, NULL},
        {"--model", "NAMES", "tune on these models only, comma-separated (default: all)", &only,
         NULL},
        {"--batch", "SIZES", "batch sizes, comma-separated (default 64,256)", &batch, NULL},
        {"--repeats", "N", "profiled steps per measurement (default 3)", &repeats, NULL},
        {"--models-dir", "DIR", "the model descriptors (default: experiments/bench)", &dir, NULL},
    };
    int rc = cli_parse("tune", "[--device D] [--model NAMES] [--batch SIZES]",
                       "Measures on the seed models' shapes which parameters of CLBlast's GEMM "
                       "run each GEMM\nshape fastest, which convolution algorithm (direct or "
                       "im2col + GEMM) is faster for\neach conv2d shape and pass, how im2col "
                       "splits its work, and the work-group size of\nelement-wise kernels, and "
                       "writes the device's tuning file next to the kernel cache.\nEvery later "
                       "run on this device and driver reads it. Without it, runs time the\n"
                       "convolution algorithms of each new shape on its first use and add the "
                       "choice to\nthat file (CLGRAPH_AUTOTUNE=0: never); tuning keeps those "
                       "lines for other shapes.\nTakes a minute or more: progress is printed "
                       "as it goes.",
                       argc, argv, options, CG__ARRAY_LEN(options), NULL, 0, NULL, &help);
    if (rc != CLI_OK || help) return rc;
    static bench_opts o;
    memset(&o, 0, sizeof o);
    int n_repeats = 3;
    if ((rc = parse_batches(batch, &o)) != CLI_OK) return rc;
    if (repeats && (rc = cli_positive("tune", "--repeats", repeats, &n_repeats)) != CLI_OK)
        return rc;
    if ((rc = find_models(dir ? dir : default_models_dir(), only, &o)) != CLI_OK) return rc;
    cg_context_options co = {.device = device, .profiling = true};
    cg_context *ctx = NULL;
    cg_status st = cg_context_create(&co, &ctx);
    if (st != CG_OK) {
        cli_report_error("opening the device", st);
        return CLI_FAILED;
    }
    const cg_device_info *d = cg_context_device(ctx);
    printf("device %d:%d %s (%s, driver %s)\n", d->platform_index, d->device_index, d->name,
           d->platform_name, d->driver_version);
    fflush(stdout);
    st = cg_bench_tune(ctx, o.files, o.n_files, o.batches, o.n_batches, n_repeats, stdout);
    if (st == CG_OK) printf("tuning: %s\n", cg_context_tuning(ctx));
    cg_context_destroy(ctx);
    if (st != CG_OK) {
        cli_report_error("tuning", st);
        return CLI_FAILED;
    }
    return CLI_OK;
}
