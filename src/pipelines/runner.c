/* The experiment runner (see runner.h). Each split is uploaded once (a feeder); each epoch
 * uploads one shuffled order, and each step gathers its batch on the device, so the host only
 * enqueues work and reads the accumulator at log intervals. Every evaluation split has a graph
 * of its own, built on its own arrays and given the trained parameters after every epoch. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "data/data.h"
#include "exp/experiment.h"
#include "graph/feeder.h"
#include "graph/params.h"
#include "pipelines/pipeline.h"
#include "pipelines/runner.h"
#include "pipelines/samples.h"
#include "report/csv.h"
#include "report/json.h"
#include "report/report.h"
#include "report/stats.h"

/* ---- metrics.csv ---- */

typedef struct recorder {
    FILE *csv;
    int tuning_fallbacks; /* those the run has shown */
    /* Each until stage's images of every variant's first repeat (the first variants, up to a
     * grid's rows), drawn at the end of the run as one grid per stage, a row per variant. */
    float *grid[CG_EXP_MAX_STAGES][CG_SAMPLES_MAX_ROWS];
    int grid_chw[CG_EXP_MAX_STAGES][CG_SAMPLES_MAX_ROWS][3], grid_count[CG_EXP_MAX_STAGES];
    char grid_names[CG_SAMPLES_MAX_ROWS][CG_EXP_NAME];
    int grid_variants;
    /* With a sweep: the first ROC figure's curve of each variant's first repeat (of the first
     * stage that draws one), drawn at the end as one figure per variant of the file. */
    cg_roc_curve rocs[CG_EXP_MAX_VARIANTS];
    int n_rocs, roc_stage, roc_item;
    long rows; /* rows the current (variant, repeat) has written */
    int nan_stops; /* repeats stopped at a NaN or infinite loss */
    char nan_note[512];
} recorder;

static void record_value(recorder *r, const char *variant, int repeat, int epoch,
                         const char *split, const char *metric, double value) {
    if (!r->csv)
        return;
    cg_csv_field(r->csv, variant);
    fprintf(r->csv, ",%d,%d,", repeat, epoch);
    cg_csv_field(r->csv, split);
    fputc(',', r->csv);
    cg_csv_field(r->csv, metric);
    fputc(',', r->csv);
    cg_csv_number(r->csv, value);
    fputc('\n', r->csv);
    fflush(r->csv);
    r->rows++;
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
    const char *dir;
    int repeat;
    uint64_t seed;
    int epoch_base; /* epochs of the stages before: metrics.csv counts epochs across stages */
    recorder *rec;
    double last_checkpoint; /* ms */
} repeat_state;

/* ---- checkpoints ---- */

/* Where a repeat goes on: its stage, the epochs of that stage done, the steps of the next epoch
 * done with what the log had summed of it, the epochs of the stages before, the metrics rows
 * written, and the training graph's state (has_state: inside a stage). */
typedef struct resume_point {
    int stage, epoch, step, logged, epoch_base;
    long rows;
    double loss_sum, part_sum[CG_EXP_MAX_LOSSES];
    bool has_state;
    cg_graph_train_state ts;
} resume_point;

static void checkpoint_path(const char *dir, const char *vname, int repeat, char *out,
                            size_t cap) {
    char v[80];
    cg__file_part(v, sizeof v, vname);
    snprintf(out, cap, "%.4000s/checkpoints/%s-r%d.safetensors", dir, v, repeat + 1);
}

static cg_param_tensor flat_tensor(const char *name, float *data, size_t n) {
    cg_param_tensor t = {{0}, cg_shape_make(1, (int)n, 0, 0, 0), data};
    cg__copy_str(t.name, sizeof t.name, name);
    return t;
}

/* Writes the repeat's checkpoint: the parameter store (with the training graph's parameters
 * taken into it when tg is given), the graph's optimizer state and accumulator, and `at` as the
 * file's metadata. The metrics rows it counts are flushed first. */
static cg_status write_checkpoint(repeat_state *rs, cg_graph *tg, const resume_point *at) {
    char path[4400];
    snprintf(path, sizeof path, "%s/checkpoints", rs->dir);
    cg_status st = cg__mkdir_p(path);
    checkpoint_path(rs->dir, rs->vname, rs->repeat, path, sizeof path);
    cg_graph_train_state ts;
    memset(&ts, 0, sizeof ts);
    if (st == CG_OK && tg)
        st = cg_param_store_take(rs->store, tg);
    if (st == CG_OK && tg)
        st = cg_graph_read_train_state(tg, &ts);
    if (rs->rec->csv)
        fflush(rs->rec->csv);
    char val[12][64], sums[CG_EXP_MAX_LOSSES * 26 + 2] = "";
    for (int l = 0, used = 0; l < CG_EXP_MAX_LOSSES; l++)
        used += snprintf(sums + used, sizeof sums - (size_t)used, "%s%.17g", l ? "," : "",
                         at->part_sum[l]);
    snprintf(val[0], 64, "%d", at->stage);
    snprintf(val[1], 64, "%d", at->epoch);
    snprintf(val[2], 64, "%d", at->step);
    snprintf(val[3], 64, "%d", at->logged);
    snprintf(val[4], 64, "%d", at->epoch_base);
    snprintf(val[5], 64, "%ld", rs->rec->rows);
    snprintf(val[6], 64, "%.17g", at->loss_sum);
    snprintf(val[7], 64, "%llu", (unsigned long long)ts.step);
    snprintf(val[8], 64, "%u", ts.launch);
    snprintf(val[9], 64, "%d", tg != NULL);
    const char *meta[] = {"format", "clgraph-checkpoint-1", "stage", val[0], "epoch", val[1],
                          "step", val[2], "logged", val[3], "epoch_base", val[4], "rows", val[5],
                          "loss_sum", val[6], "part_sum", sums, "graph_step", val[7],
                          "launch", val[8], "has_state", val[9]};
    cg_param_store *store = rs->store;
    int kept = store->n;
    if (st == CG_OK && tg && store->n + 2 > CG_GRAPH_MAX_PARAMS)
        st = cg__error(CG_ERR_INVALID_ARGUMENT, "too many parameters for a checkpoint");
    if (st == CG_OK && tg) {
        store->tensors[store->n++] = flat_tensor("__clgraph.acc", ts.acc, CG_GRAPH_ACC_SLOTS);
        if (ts.opt_floats)
            store->tensors[store->n++] = flat_tensor("__clgraph.opt", ts.opt, ts.opt_floats + 1);
    }
    if (st == CG_OK)
        st = cg_param_store_save(store, path, meta, (int)CG__ARRAY_LEN(meta));
    store->n = kept; /* the added entries are this function's buffers */
    free(ts.opt);
    rs->last_checkpoint = cg__now_ms();
    return st;
}

/* Takes the tensor of this name out of the store: its data, or NULL. */
static float *take_tensor(cg_param_store *s, const char *name, size_t *count) {
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->tensors[i].name, name)) {
            float *data = s->tensors[i].data;
            *count = cg_shape_numel(&s->tensors[i].shape);
            memmove(&s->tensors[i], &s->tensors[i + 1], (size_t)(s->n - i - 1) * sizeof *s->tensors);
            s->n--;
            return data;
        }
    *count = 0;
    return NULL;
}

/* Reads a checkpoint into the store and the resume point. */
static cg_status read_checkpoint(const char *path, cg_param_store *store, resume_point *rp) {
    memset(rp, 0, sizeof *rp);
    char *meta = NULL;
    cJSON *m = NULL;
    cg_status st = cg_param_store_load_meta(store, path, &meta);
    if (st == CG_OK)
        st = cg_json_parse(path, meta ? meta : "{}", meta ? strlen(meta) : 2, &m);
    free(meta);
    if (st == CG_OK && strcmp(cg_json_string(m, "format", ""), "clgraph-checkpoint-1") != 0)
        st = cg__error(CG_ERR_PARSE, "%s: not a clgraph checkpoint (or of another version); "
                                     "remove it to start that repeat again",
                       path);
    if (st == CG_OK) {
        rp->stage = atoi(cg_json_string(m, "stage", "0"));
        rp->epoch = atoi(cg_json_string(m, "epoch", "0"));
        rp->step = atoi(cg_json_string(m, "step", "0"));
        rp->logged = atoi(cg_json_string(m, "logged", "0"));
        rp->epoch_base = atoi(cg_json_string(m, "epoch_base", "0"));
        rp->rows = atol(cg_json_string(m, "rows", "0"));
        rp->loss_sum = strtod(cg_json_string(m, "loss_sum", "0"), NULL);
        const char *sums = cg_json_string(m, "part_sum", "");
        for (int l = 0; l < CG_EXP_MAX_LOSSES && *sums; l++) {
            char *end;
            rp->part_sum[l] = strtod(sums, &end);
            sums = *end == ',' ? end + 1 : end;
        }
        rp->has_state = atoi(cg_json_string(m, "has_state", "0")) != 0;
        rp->ts.step = strtoull(cg_json_string(m, "graph_step", "0"), NULL, 10);
        rp->ts.launch = (uint32_t)strtoul(cg_json_string(m, "launch", "0"), NULL, 10);
        size_t n = 0;
        float *acc = take_tensor(store, "__clgraph.acc", &n);
        if (acc && n == CG_GRAPH_ACC_SLOTS)
            memcpy(rp->ts.acc, acc, sizeof rp->ts.acc);
        free(acc);
        rp->ts.opt = take_tensor(store, "__clgraph.opt", &n);
        rp->ts.opt_floats = n ? n - 1 : 0;
        if (rp->stage < 0 || rp->epoch < 0 || rp->step < 0 || rp->rows < 0)
            st = cg__error(CG_ERR_PARSE, "%s: a damaged checkpoint; remove it to start that "
                                         "repeat again",
                           path);
    }
    cJSON_Delete(m);
    return st;
}

/* An evaluation split: its feeder and its graph. */
typedef struct eval_split {
    cg_feeder *feeder;
    cg_exp_graph graph;
} eval_split;

/* Every sample of an evaluation split once; out[m] the metric's mean (NaN where this split
 * cannot compute it). */
static cg_status evaluate(const cg_exp_stage *sg, eval_split *es, double *out) {
    cg_graph *g = es->graph.graph;
    int n = cg_split_count(cg_feeder_split(es->feeder));
    cg_status st = cg_graph_reset_accumulator(g);
    if (st == CG_OK)
        st = cg_feeder_evaluate(es->feeder);
    float acc[CG_GRAPH_ACC_SLOTS];
    if (st == CG_OK)
        st = cg_graph_read_accumulator(g, acc, CG_GRAPH_ACC_SLOTS);
    for (int m = 0; st == CG_OK && m < sg->n_metrics; m++) {
        double count = es->graph.metric_count_slots[m] >= 0 ? acc[es->graph.metric_count_slots[m]]
                                                            : (double)n;
        out[m] = es->graph.metric_built[m] && count > 0
                     ? acc[es->graph.metric_slots[m]] / count
                     : NAN;
    }
    return st;
}

/* A value collected over `draws` passes (fresh random draws each), combined number by number
 * into *out (n floats: samples x the value's width; freed by the caller) as the collect entry
 * says: the mean of the draws, or their importance-weighted bound. */
static cg_status collect_draws(cg_feeder *f, int id, int draws, int combine, int n, float **out) {
    float **each = calloc((size_t)draws, sizeof *each);
    double *v = malloc((size_t)draws * sizeof *v);
    cg_status st = each && v ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d draws",
                                                 draws);
    for (int d = 0; st == CG_OK && d < draws; d++)
        st = cg_feeder_collect(f, &id, 1, &each[d]);
    *out = st == CG_OK ? malloc((size_t)(n > 0 ? n : 1) * sizeof **out) : NULL;
    if (st == CG_OK && !*out)
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d rows", n);
    for (int r = 0; st == CG_OK && r < n; r++) {
        double sum = 0;
        for (int d = 0; d < draws; d++)
            sum += v[d] = each[d][r];
        (*out)[r] = (float)(combine == CG_COMBINE_IMPORTANCE ? cg_stats_importance_bound(v, draws)
                                                             : sum / draws);
    }
    for (int d = 0; each && d < draws; d++)
        free(each[d]);
    free(each);
    free(v);
    return st;
}

/* Reads the values collected per sample over an evaluation split into *out and writes them,
 * with the split's one-number integer arrays (labels, flags) beside them, as
 * samples/<variant>-r<k>[-<stage> | -<file>]-<split>.csv. */
static cg_status write_samples(repeat_state *rs, const cg_exp_stage *sg, eval_split *es,
                               cg_samples *out) {
    int ids[CG_EXP_MAX_COLLECT], which[CG_EXP_MAX_COLLECT], n_ids = 0;
    for (int i = 0; i < sg->n_collect; i++)
        if (es->graph.collect[i] >= 0) {
            which[n_ids] = i;
            ids[n_ids++] = es->graph.collect[i];
        }
    if (n_ids == 0)
        return CG_OK;
    size_t width[CG_EXP_MAX_COLLECT];
    int batch = cg_graph_batch(es->graph.graph);
    for (int i = 0; i < n_ids; i++) {
        cg_shape sh = cg_graph_value_shape(es->graph.graph, ids[i]);
        width[i] = cg_shape_numel(&sh) / (size_t)batch;
    }
    /* The values of one draw in one pass, then each value of several draws on its own. */
    float *rows[CG_EXP_MAX_COLLECT] = {NULL}, *once[CG_EXP_MAX_COLLECT] = {NULL};
    int once_ids[CG_EXP_MAX_COLLECT], n_once = 0;
    for (int i = 0; i < n_ids; i++)
        if (sg->collect_draws[which[i]] <= 1)
            once_ids[n_once++] = ids[i];
    const cg_split *split = cg_feeder_split(es->feeder);
    cg_status st = n_once ? cg_feeder_collect(es->feeder, once_ids, n_once, once) : CG_OK;
    for (int i = 0, j = 0; i < n_ids; i++) {
        int draws = sg->collect_draws[which[i]];
        if (draws <= 1)
            rows[i] = once[j++];
        else if (st == CG_OK)
            st = collect_draws(es->feeder, ids[i], draws, sg->collect_combine[which[i]],
                               cg_split_count(split) * (int)width[i], &rows[i]);
    }
    char path[4600], v[80], s[80], k[80];
    snprintf(path, sizeof path, "%s/samples", rs->dir);
    if (st == CG_OK)
        st = cg__mkdir_p(path);
    cg__file_part(v, sizeof v, rs->vname);
    cg__file_part(s, sizeof s, split->name);
    cg__file_part(k, sizeof k, sg->collect_file[0] ? sg->collect_file : sg->name);
    if (rs->e->n_stages > 1 || sg->collect_file[0])
        snprintf(path, sizeof path, "%s/samples/%s-r%d-%s-%s.csv", rs->dir, v, rs->repeat + 1, k,
                 s);
    else
        snprintf(path, sizeof path, "%s/samples/%s-r%d-%s.csv", rs->dir, v, rs->repeat + 1, s);
    FILE *f = st == CG_OK ? fopen(path, "w") : NULL;
    if (st == CG_OK && !f)
        st = cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (f) {
        fprintf(f, "index");
        for (int a = 0; a < split->n_arrays; a++)
            if (split->arrays[a].dtype == CG_I32 && split->arrays[a].shape.ndim == 1) {
                fputc(',', f);
                cg_csv_field(f, split->arrays[a].name);
            }
        for (int i = 0; i < n_ids; i++)
            for (size_t j = 0; j < width[i]; j++) {
                char col[96];
                if (width[i] == 1)
                    snprintf(col, sizeof col, "%s", sg->collect[which[i]]);
                else
                    snprintf(col, sizeof col, "%s_%zu", sg->collect[which[i]], j);
                fputc(',', f);
                cg_csv_field(f, col);
            }
        fputc('\n', f);
        int n = cg_split_count(split);
        for (int r = 0; r < n; r++) {
            fprintf(f, "%d", r);
            for (int a = 0; a < split->n_arrays; a++)
                if (split->arrays[a].dtype == CG_I32 && split->arrays[a].shape.ndim == 1)
                    fprintf(f, ",%d", ((const int32_t *)split->arrays[a].data)[r]);
            for (int i = 0; i < n_ids; i++)
                for (size_t j = 0; j < width[i]; j++) {
                    fputc(',', f);
                    cg_csv_number(f, rows[i][(size_t)r * width[i] + j]);
                }
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            st = cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", path);
    }
    out->split = split;
    out->n = cg_split_count(split);
    out->n_values = n_ids;
    for (int i = 0; i < n_ids; i++) {
        out->names[i] = sg->collect[which[i]];
        out->width[i] = (int)width[i];
        out->rows[i] = rows[i];
    }
    return st;
}

/* The block's images figures on this split (first repeat): the first samples of each value. */
static cg_status write_images(repeat_state *rs, const cg_exp_stage *sg, eval_split *es) {
    const cg_split *split = cg_feeder_split(es->feeder);
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < sg->n_sample_figures; i++) {
        const cg_exp_sample_item *it = &sg->sample_figures[i];
        if (it->n_values == 0 || (it->split[0] && strcmp(it->split, split->name) != 0))
            continue;
        int ids[4], chw[4][3];
        for (int k = 0; st == CG_OK && k < it->n_values; k++) {
            ids[k] = cg_exp_graph_value(&es->graph, it->values[k]);
            if (ids[k] < 0 || !cg_exp_image_shape(cg_graph_value_shape(es->graph.graph, ids[k]),
                                                  &chw[k][0], &chw[k][1], &chw[k][2]))
                st = cg__error(CG_ERR_INVALID_ARGUMENT, "%s:%d:%d: images: split '%s' has no "
                                                        "image value '%s'",
                               rs->e->file, it->line, it->col, split->name, it->values[k]);
        }
        float *rows[4] = {NULL};
        int count = cg_split_count(split) < it->count ? cg_split_count(split) : it->count;
        if (st == CG_OK)
            st = cg_feeder_collect_first(es->feeder, ids, it->n_values, count, rows);
        char v[80];
        cg__file_part(v, sizeof v, rs->vname);
        if (st == CG_OK)
            st = cg_samples_images(rs->e, sg, it, split->name, count,
                                   (const float *const *)rows, (const int(*)[3])chw, rs->dir, v,
                                   NULL, 0);
        for (int k = 0; k < it->n_values; k++)
            free(rows[k]);
    }
    return st;
}

/* The block's statistics of the collected values, recorded per split at the stage's last
 * epoch, and its figures (of the first repeat). */
static cg_status sample_results(repeat_state *rs, const cg_exp_stage *sg, cg_samples *s,
                                int n_splits) {
    cg_status st = CG_OK;
    for (int k = 0; st == CG_OK && k < n_splits; k++) {
        double v[CG_EXP_MAX_SAMPLE_ITEMS];
        if (!s[k].split)
            continue;
        st = cg_samples_statistics(rs->e, sg, s, n_splits, k, v);
        for (int i = 0; st == CG_OK && i < sg->n_statistics; i++)
            if (!isnan(v[i]))
                record_value(rs->rec, rs->vname, rs->repeat, rs->epoch_base, s[k].split->name,
                             sg->statistics[i].name, v[i]);
    }
    bool sweep = rs->e->n_sweep > 0;
    if (st == CG_OK && rs->repeat == 0 && sg->n_sample_figures > 0) {
        char v[80];
        cg__file_part(v, sizeof v, rs->vname);
        st = cg_samples_figures(rs->e, sg, s, n_splits, rs->dir, v, sweep);
    }
    recorder *rec = rs->rec;
    int stage = (int)(sg - rs->e->stages);
    for (int i = 0; sweep && rs->repeat == 0 && i < sg->n_sample_figures; i++) {
        const cg_exp_sample_item *it = &sg->sample_figures[i];
        if (strcmp(it->type, "roc") != 0 || rec->n_rocs == CG_EXP_MAX_VARIANTS ||
            (rec->n_rocs && (rec->roc_stage != stage || rec->roc_item != i)))
            continue;
        for (int k = 0; k < n_splits; k++) {
            if (!s[k].split || (it->split[0] && strcmp(it->split, s[k].split->name) != 0))
                continue;
            cg_roc_curve *c = &rec->rocs[rec->n_rocs];
            cg_samples_roc_curve(it, &s[k], c);
            cg__copy_str(c->name, sizeof c->name, rs->vname);
            rec->roc_stage = stage;
            rec->roc_item = i;
            rec->n_rocs++;
            break;
        }
        break;
    }
    return st;
}

/* Evaluates every evaluation split after giving them the trained parameters; records the
 * metrics at epoch `global` and adds them to the epoch's line. */
/* Whether the split's graph computes any of the stage's metrics. */
static bool has_metric(const cg_exp_stage *sg, const eval_split *es) {
    for (int q = 0; q < sg->n_metrics; q++)
        if (es->graph.metric_built[q])
            return true;
    return false;
}

static cg_status evaluate_all(repeat_state *rs, const cg_exp_stage *sg, cg_exp_graph *tg,
                              eval_split *es, int global, char *line, size_t cap) {
    cg_status st = cg_param_store_take(rs->store, tg->graph);
    size_t used = strlen(line);
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
        double m[CG_EXP_MAX_METRICS];
        if (!has_metric(sg, &es[s])) /* nothing to compute per epoch */
            continue;
        st = cg_param_store_give(rs->store, es[s].graph.graph, false, "the trained model");
        if (st == CG_OK)
            st = evaluate(sg, &es[s], m);
        for (int q = 0; st == CG_OK && q < sg->n_metrics; q++) {
            if (!es[s].graph.metric_built[q])
                continue;
            record_value(rs->rec, rs->vname, rs->repeat, global, sg->eval_splits[s],
                         sg->metrics[q].name, m[q]);
            if (used < cap)
                used += (size_t)snprintf(line + used, cap - used, ", %s %s %.4f",
                                         sg->eval_splits[s], sg->metrics[q].name, m[q]);
        }
    }
    return st;
}

/* An until stage's images figure: its image value for the first samples (the fooling images,
 * one trial per target class), as the last update left them. */
static cg_status until_images(repeat_state *rs, const cg_exp_stage *sg, cg_exp_graph *tg, int n) {
    const cg_exp_sample_item *it = &sg->sample_figures[0];
    int v = cg_exp_graph_value(tg, it->values[0]), chw[1][3];
    cg_shape s = cg_graph_value_shape(tg->graph, v);
    if (v < 0 || !cg_exp_image_shape(s, &chw[0][0], &chw[0][1], &chw[0][2]))
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s:%d:%d: until: images: '%s' is no image",
                         rs->e->file, it->line, it->col, it->values[0]);
    float *all = malloc(cg_shape_numel(&s) * sizeof *all);
    cg_status st = all ? cg_graph_forward(tg->graph, false)
                       : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the images");
    if (st == CG_OK)
        st = cg_graph_read_value(tg->graph, v, all);
    char vn[80];
    cg__file_part(vn, sizeof vn, rs->vname);
    const float *rows[1] = {all};
    int count = n < it->count ? n : it->count;
    if (st == CG_OK)
        st = cg_samples_images(rs->e, sg, it, sg->split, count, rows, (const int(*)[3])chw,
                               rs->dir, vn, NULL, 0);
    /* Kept for the run's grid of every variant. */
    recorder *rec = rs->rec;
    int stage = (int)(sg - rs->e->stages), row = 0;
    while (row < rec->grid_variants && strcmp(rec->grid_names[row], rs->vname) != 0)
        row++;
    if (st == CG_OK && row == rec->grid_variants && row < CG_SAMPLES_MAX_ROWS)
        cg__copy_str(rec->grid_names[rec->grid_variants++], CG_EXP_NAME, rs->vname);
    if (st == CG_OK && row < rec->grid_variants && !rec->grid[stage][row] &&
        (rec->grid_count[stage] == 0 || rec->grid_count[stage] == count)) {
        size_t per = (size_t)chw[0][0] * chw[0][1] * chw[0][2];
        rec->grid[stage][row] = malloc((size_t)count * per * sizeof *all);
        if (rec->grid[stage][row])
            memcpy(rec->grid[stage][row], all, (size_t)count * per * sizeof *all);
        memcpy(rec->grid_chw[stage][row], chw[0], sizeof chw[0]);
        rec->grid_count[stage] = count;
    }
    free(all);
    return st;
}

/* With a sweep, the ROC curves each variant of the file drew at every value, in one figure per
 * variant; frees what the run kept. */
static cg_status sweep_rocs(recorder *rec, const cg_experiment *base, const char *dir) {
    cg_status st = CG_OK;
    int bases = base->n_bases ? base->n_bases : 1;
    const cg_exp_stage *sg = &base->stages[rec->roc_stage];
    for (int b = 0; rec->n_rocs && b < bases && rec->roc_item < sg->n_sample_figures; b++) {
        cg_roc_curve curves[CG_EXP_MAX_VARIANTS];
        const char *labels[CG_EXP_MAX_VARIANTS];
        int n = 0;
        for (int i = 0; i < base->n_sweep; i++) {
            char name[2 * CG_EXP_NAME + 2];
            cg__sweep_name(name, sizeof name, base->n_bases ? base->bases[b] : NULL,
                           base->sweep[i]);
            for (int k = 0; k < rec->n_rocs; k++)
                if (!strcmp(rec->rocs[k].name, name)) {
                    curves[n] = rec->rocs[k];
                    labels[n++] = base->sweep[i];
                }
        }
        /* Only with every value's curve (a resumed run lacks those that finished before). */
        if (st == CG_OK && n == base->n_sweep)
            st = cg_samples_roc_sweep(dir, base->n_bases ? base->bases[b] : base->data.name,
                                      base->sweep_key, &sg->sample_figures[rec->roc_item],
                                      curves, labels, n);
    }
    for (int k = 0; k < rec->n_rocs; k++)
        cg_roc_curve_free(&rec->rocs[k]);
    return st;
}

/* The until stages' images of every variant as one grid per stage, a row per variant
 * (figures/samples-all-variants-<stage>-...png); frees what the run kept. */
static cg_status until_grids(recorder *rec, const char *file, const char *variant,
                             const char *const *sets, int n_sets, const char *dir, int variants) {
    cg_status st = CG_OK;
    static cg_experiment e;
    bool loaded = false;
    for (int s = 0; s < CG_EXP_MAX_STAGES; s++) {
        const float *rows[CG_SAMPLES_MAX_ROWS];
        const char *labels[CG_SAMPLES_MAX_ROWS];
        int chw[CG_SAMPLES_MAX_ROWS][3], n = 0;
        for (int v = 0; v < rec->grid_variants; v++)
            if (rec->grid[s][v]) {
                rows[n] = rec->grid[s][v];
                labels[n] = rec->grid_names[v];
                memcpy(chw[n], rec->grid_chw[s][v], sizeof chw[n]);
                n++;
            }
        /* Every variant of the run, or none (a resumed run lacks those that finished before). */
        if (n < variants && n < CG_SAMPLES_MAX_ROWS)
            n = 0;
        if (st == CG_OK && n > 1 && !loaded) /* the stage's figure entry, of the first variant */
            loaded = (st = cg_experiment_load(file, variant, sets, n_sets, &e)) == CG_OK;
        if (st == CG_OK && n > 1 && loaded && s < e.n_stages && e.stages[s].n_sample_figures)
            st = cg_samples_images(&e, &e.stages[s], &e.stages[s].sample_figures[0],
                                   e.stages[s].split, rec->grid_count[s], rows,
                                   (const int(*)[3])chw, dir, "all-variants", labels, n);
        for (int v = 0; v < rec->grid_variants; v++)
            free(rec->grid[s][v]);
    }
    return st;
}

/* An until stage: the split as one batch, trained (forward in evaluation mode, backward, an
 * update) until every sample's value has reached the threshold or max_steps updates; records per
 * stage <stage>_rate (the share that reached it) and <stage>_updates (the mean updates they
 * needed) at the last epoch so far, and writes samples/<variant>-r<k>-<stage>.csv (index and
 * updates per sample, -1 for never). */
static cg_status run_until(repeat_state *rs, const cg_exp_stage *sg, cg_exp_graph *tg,
                           cg_feeder *f, int n, const char *run) {
    int v = cg_exp_graph_value(tg, sg->until_value);
    int *order = malloc((size_t)n * sizeof *order), *first = malloc((size_t)n * sizeof *first);
    cg_status st = order && first ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d "
                                                                            "samples", n);
    for (int i = 0; st == CG_OK && i < n; i++)
        order[i] = i;
    if (st == CG_OK)
        st = cg_feeder_order(f, order, n);
    if (st == CG_OK)
        st = cg_feeder_gather(f, 0);
    cg_until u = {.condition = v,
                  .threshold = sg->until_threshold,
                  .check_every = sg->until_check_every,
                  .max_steps = sg->until_max_steps,
                  .training = false,
                  .optimizer = &sg->optimizer};
    int steps = 0, hits = 0;
    double t0 = cg__now_ms(), sum = 0;
    if (st == CG_OK)
        st = cg_graph_train_until(tg->graph, &u, first, &steps);
    for (int i = 0; st == CG_OK && i < n; i++)
        if (first[i] >= 0)
            hits++, sum += first[i];
    char metric[CG_EXP_NAME + 16], path[4400];
    if (st == CG_OK) {
        snprintf(metric, sizeof metric, "%s_rate", sg->name);
        record_value(rs->rec, rs->vname, rs->repeat, rs->epoch_base, sg->split, metric,
                     (double)hits / n);
        snprintf(metric, sizeof metric, "%s_updates", sg->name);
        if (hits)
            record_value(rs->rec, rs->vname, rs->repeat, rs->epoch_base, sg->split, metric,
                         sum / hits);
        fprintf(stderr, "  %s: %d of %d reached %s >= %g (%.1f%%)", run, hits, n, sg->until_value,
                (double)sg->until_threshold, 100.0 * hits / n);
        if (hits)
            fprintf(stderr, " after %.1f updates on average", sum / hits);
        fprintf(stderr, "; %d updates in %.1f s\n", steps, (cg__now_ms() - t0) / 1000);
        snprintf(path, sizeof path, "%s/samples", rs->dir);
        st = cg__mkdir_p(path);
    }
    if (st == CG_OK && rs->repeat == 0 && sg->n_sample_figures) /* the images at the end */
        st = until_images(rs, sg, tg, n);
    FILE *csv = NULL;
    if (st == CG_OK) {
        char vn[80], sn[80];
        cg__file_part(vn, sizeof vn, rs->vname);
        cg__file_part(sn, sizeof sn, sg->name);
        snprintf(path, sizeof path, "%s/samples/%s-r%d-%s.csv", rs->dir, vn, rs->repeat + 1, sn);
        if (!(csv = fopen(path, "w")))
            st = cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    if (csv) { /* index, the split's integer arrays (the target), the updates */
        const cg_split *split = cg_dataset_find(rs->data, sg->split);
        fprintf(csv, "index");
        for (int a = 0; a < split->n_arrays; a++)
            if (split->arrays[a].dtype == CG_I32 && split->arrays[a].shape.ndim == 1) {
                fputc(',', csv);
                cg_csv_field(csv, split->arrays[a].name);
            }
        fprintf(csv, ",updates\n");
        for (int i = 0; i < n; i++) {
            fprintf(csv, "%d", i);
            for (int a = 0; a < split->n_arrays; a++)
                if (split->arrays[a].dtype == CG_I32 && split->arrays[a].shape.ndim == 1)
                    fprintf(csv, ",%d", ((const int32_t *)split->arrays[a].data)[i]);
            fprintf(csv, ",%d\n", first[i]);
        }
        if (fclose(csv) != 0)
            st = cg__error(CG_ERR_IO, "cannot write %s", path);
    }
    free(order);
    free(first);
    return st;
}

static bool stop_requested(const cg_run_options *o) {
    return o->stop && *o->stop;
}

/* A loss that is no longer finite stops the repeat (unless --allow-nan): named, counted, and
 * the run goes on with the next repeat. */
static cg_status nan_stop(repeat_state *rs, const char *run, int epoch, int step, double loss) {
    recorder *rec = rs->rec;
    rec->nan_stops++;
    snprintf(rec->nan_note, sizeof rec->nan_note, "%.100s stopped: the loss became %g by epoch "
                                                  "%d, step %d",
             run, loss, epoch, step);
    return cg__error(CG_ERR_CHECK_FAILED, "%s: the loss became %g by epoch %d, step %d; this "
                                          "repeat stops (lower the learning rate or check the "
                                          "data; --allow-nan trains on)",
                     run, loss, epoch, step);
}

static cg_status run_stage(repeat_state *rs, int k, bool strict_init, const char *init,
                           const resume_point *rp) {
    const cg_experiment *e = rs->e;
    const cg_exp_stage *sg = &e->stages[k];
    cg_context *ctx = rs->ctx;
    cg_status st = cg_experiment_check_stage(e, k, rs->data, NULL);
    if (st != CG_OK)
        return st;
    cg_split *train = cg_dataset_find(rs->data, sg->split);
    int n = cg_split_count(train), batch = cg_exp_stage_batch_on(e, k, train);
    int epochs = sg->has_until ? 0 : sg->epochs; /* until: one batch, trained until it holds */
    if (epochs > 0 && n < batch)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "split '%s' has %d samples, fewer than one batch of %d; lower the "
                         "batch (train.batch, or the stage's batch:) or raise the data's size",
                         sg->split, n, batch);
    cg_feeder *ftrain = NULL;
    cg_exp_graph tg = {0};
    eval_split es[CG_MAX_SPLITS];
    memset(es, 0, sizeof es);
    int *idx = NULL;
    cg_exp_build how = {rs->data, false, true};
    st = cg_feeder_create(ctx, train, &ftrain);
    if (st == CG_OK)
        st = cg_experiment_build_for(e, k, ctx, train, batch, rs->seed, &how, &tg);
    if (st == CG_OK)
        st = cg_feeder_bind(ftrain, tg.graph);
    how.eval = true;
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
        cg_split *sp = cg_dataset_find(rs->data, sg->eval_splits[s]);
        st = cg_feeder_create(ctx, sp, &es[s].feeder);
        if (st == CG_OK)
            st = cg_experiment_build_for(e, k, ctx, sp, sg->eval_batch ? sg->eval_batch : batch,
                                         rs->seed, &how, &es[s].graph);
        if (st == CG_OK)
            st = cg_feeder_bind(es[s].feeder, es[s].graph.graph);
    }
    /* Parameters trained by earlier stages (or loaded with --init) carry over by name. */
    if (st == CG_OK)
        st = cg_param_store_give(rs->store, tg.graph, strict_init,
                                 init ? init : "the earlier stages");
    /* Going on from a checkpoint inside this stage: the training graph as it was. */
    if (st == CG_OK && rp && rp->has_state)
        st = cg_graph_write_train_state(tg.graph, &sg->optimizer, &rp->ts);
    if (st == CG_OK && !(idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d indices", n);
    int steps = n / batch; /* the last partial batch of an epoch is dropped, as drop_last */
    double every = (rs->o->checkpoint_every_s > 0 ? rs->o->checkpoint_every_s : 600) * 1000;
    char run[160];
    if (e->n_stages > 1)
        snprintf(run, sizeof run, "%.60s #%d %.60s", rs->vname, rs->repeat + 1, sg->name);
    else
        snprintf(run, sizeof run, "%.60s #%d", rs->vname, rs->repeat + 1);
    int first_epoch = rp ? rp->epoch + 1 : 1;
    for (int epoch = first_epoch; st == CG_OK && epoch <= epochs; epoch++) {
        /* The order is the epoch's own: a resumed epoch shuffles as it did. */
        cg__rng r;
        cg__rng_init(&r, rs->seed, 0x65700000u + (uint32_t)(rs->epoch_base + epoch));
        for (int i = 0; i < n; i++)
            idx[i] = i;
        cg__rng_shuffle(&r, idx, n);
        st = cg_feeder_order(ftrain, idx, n);
        bool midway = rp && epoch == first_epoch && rp->step > 0;
        if (st == CG_OK && !midway) /* midway, the accumulator holds the steps before */
            st = cg_graph_reset_accumulator(tg.graph);
        double t0 = cg__now_ms(), loss_sum = midway ? rp->loss_sum : 0;
        double part_sum[CG_EXP_MAX_LOSSES] = {0};
        if (midway)
            memcpy(part_sum, rp->part_sum, sizeof part_sum);
        int logged = midway ? rp->logged : 0, s0 = midway ? rp->step : 0;
        for (int s = s0; st == CG_OK && s < steps; s++) {
            /* Stopped, or long in this epoch: a checkpoint before this step. */
            bool stop = stop_requested(rs->o);
            if (s > s0 && (stop || cg__now_ms() - rs->last_checkpoint > every)) {
                resume_point at = {.stage = k, .epoch = epoch - 1, .step = s, .logged = logged,
                                   .epoch_base = rs->epoch_base, .loss_sum = loss_sum};
                memcpy(at.part_sum, part_sum, sizeof part_sum);
                st = write_checkpoint(rs, tg.graph, &at);
                if (st == CG_OK && stop)
                    st = cg__error(CG_ERR_INTERRUPTED, "%s stopped at epoch %d, step %d of %d",
                                   run, epoch, s, steps);
                if (st != CG_OK)
                    break;
            }
            st = cg_feeder_gather(ftrain, s * batch);
            if (st == CG_OK)
                st = cg_graph_train_step(tg.graph, &sg->optimizer);
            if (st == CG_OK && ((s + 1) % e->log_interval == 0 || s + 1 == steps)) {
                float acc[CG_GRAPH_ACC_SLOTS];
                st = cg_graph_read_accumulator(tg.graph, acc, CG_GRAPH_ACC_SLOTS);
                loss_sum += acc[0];
                for (int l = 0; l < sg->n_losses; l++)
                    part_sum[l] += acc[tg.loss_slots[l]];
                double shown = acc[0] / (s + 1 - logged);
                logged = s + 1;
                if (st == CG_OK && !isfinite(acc[0]) && !rs->o->allow_nan)
                    st = nan_stop(rs, run, epoch, s + 1, shown);
                if (st == CG_OK)
                    st = cg_graph_reset_accumulator(tg.graph);
                double el = (cg__now_ms() - t0) / 1000;
                double rate = (double)(s + 1 - s0) * batch / (el > 0 ? el : 1e-9);
                progress(rs->o, run, epoch, epochs, s + 1, steps, shown, rate,
                         (double)(steps - s - 1) * batch / rate +
                             (double)(epochs - epoch) * steps * batch / rate);
            }
        }
        if (st != CG_OK)
            break;
        double secs = (cg__now_ms() - t0) / 1000;
        double rate = (steps - s0) * batch / (secs > 0 ? secs : 1e-9);
        double epoch_loss = loss_sum / (steps ? steps : 1);
        int global = rs->epoch_base + epoch;
        record_value(rs->rec, rs->vname, rs->repeat, global, sg->split, "loss", epoch_loss);
        char line[2048];
        int used = snprintf(line, sizeof line, "  %s epoch %d/%d: loss %.4f", run, epoch, epochs,
                            epoch_loss);
        for (int l = 0; l < sg->n_losses; l++) {
            double v = part_sum[l] / (steps ? steps : 1);
            char metric[CG_EXP_NAME + 8];
            snprintf(metric, sizeof metric, "loss.%s", sg->losses[l].node.name);
            record_value(rs->rec, rs->vname, rs->repeat, global, sg->split, metric, v);
            if (sg->n_losses > 1 && used < (int)sizeof line)
                used += snprintf(line + used, sizeof line - (size_t)used, "%s%s %.4f",
                                 l ? ", " : " (", sg->losses[l].node.name, v);
        }
        if (sg->n_losses > 1 && used < (int)sizeof line)
            used += snprintf(line + used, sizeof line - (size_t)used, ")");
        record_value(rs->rec, rs->vname, rs->repeat, global, sg->split, "samples_per_s", rate);
        snprintf(line + used, sizeof line - (size_t)used, ", %.0f samples/s", rate);
        /* Every eval_every epochs, and always the last: the table reads the final epoch. */
        if (sg->eval_every <= 1 || epoch % sg->eval_every == 0 || epoch == epochs)
            st = evaluate_all(rs, sg, &tg, es, global, line, sizeof line);
        if (rs->o->progress_bar)
            fprintf(stderr, "\r%*s\r", 110, "");
        fprintf(stderr, "%s (%.1f s)\n", line, secs);
        if (cg_context_tuning_fallbacks(ctx) > rs->rec->tuning_fallbacks) {
            rs->rec->tuning_fallbacks = cg_context_tuning_fallbacks(ctx);
            fprintf(stderr, "  tuning: %s\n", cg_context_tuning(ctx));
        }
        /* The epoch's checkpoint, after its rows: a resumed run goes on from the next. */
        resume_point at = {.stage = k, .epoch = epoch, .epoch_base = rs->epoch_base};
        if (st == CG_OK)
            st = write_checkpoint(rs, tg.graph, &at);
        if (st == CG_OK && stop_requested(rs->o) && epoch < epochs)
            st = cg__error(CG_ERR_INTERRUPTED, "%s stopped after epoch %d", run, epoch);
    }
    if (st == CG_OK && sg->has_until)
        st = run_until(rs, sg, &tg, ftrain, n, run);
    if (st == CG_OK && epochs == 0 && !sg->has_until) { /* evaluation only */
        char line[2048];
        snprintf(line, sizeof line, "  %s: no training, evaluation only", run);
        st = evaluate_all(rs, sg, &tg, es, rs->epoch_base, line, sizeof line);
        if (st == CG_OK)
            fprintf(stderr, "%s\n", line);
    }
    rs->epoch_base += epochs;
    /* An until stage's parameters are not kept: what it trains (the fooling trials' generators,
     * a layer per trial) is thrown away, and what it reads stays frozen. */
    if (st == CG_OK && !sg->has_until)
        st = cg_param_store_take(rs->store, tg.graph);
    cg_samples samples[CG_MAX_SPLITS];
    memset(samples, 0, sizeof samples);
    int n_samples = 0;
    /* evaluate_all (which always runs after the last epoch) gave the trained parameters to
     * the splits with metrics; the others get them here. */
    bool images = false;
    for (int i = 0; i < sg->n_sample_figures; i++)
        images = images || (rs->repeat == 0 && sg->sample_figures[i].n_values > 0);
    /* Resumed after the stage's last epoch, no evaluation here gave them the parameters. */
    bool resumed_done = rp && epochs > 0 && first_epoch > epochs;
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits && (sg->n_collect || images); s++) {
        if (!has_metric(sg, &es[s]) || resumed_done)
            st = cg_param_store_give(rs->store, es[s].graph.graph, false, "the trained model");
        if (st == CG_OK && sg->n_collect)
            st = write_samples(rs, sg, &es[s], &samples[n_samples]);
        n_samples += samples[n_samples].split != NULL;
        if (st == CG_OK && images)
            st = write_images(rs, sg, &es[s]);
    }
    if (st == CG_OK && n_samples)
        st = sample_results(rs, sg, samples, n_samples);
    /* The stage done: a resumed run starts at the next (the last's weights end the repeat). */
    if (st == CG_OK && k + 1 < e->n_stages) {
        resume_point at = {.stage = k + 1, .epoch_base = rs->epoch_base};
        st = write_checkpoint(rs, NULL, &at);
    }
    if (st == CG_OK && stop_requested(rs->o) && k + 1 < e->n_stages)
        st = cg__error(CG_ERR_INTERRUPTED, "%s stopped after stage %s", run, sg->name);
    for (int s = 0; s < n_samples; s++)
        cg_samples_free(&samples[s]);
    free(idx);
    cg_exp_graph_free(&tg);
    cg_feeder_destroy(ftrain);
    for (int s = 0; s < CG_MAX_SPLITS; s++) {
        cg_exp_graph_free(&es[s].graph);
        cg_feeder_destroy(es[s].feeder);
    }
    return st;
}

/* Every tensor of a weights file given to start from must be some parameter of the experiment
 * (a misspelt name would load nothing into its layer): the parameters of every stage's graphs,
 * built on the data without a device. */
static cg_status check_init_names(const cg_experiment *e, const cg_dataset *d,
                                  const cg_param_store *init, const char *path) {
    char names[CG_GRAPH_MAX_PARAMS][96];
    int n = 0;
    cg_status st = CG_OK;
    for (int k = 0; st == CG_OK && k < e->n_stages; k++) {
        cg_exp_graph tg = {0};
        st = cg_experiment_check_stage(e, k, d, &tg);
        for (int i = 0; st == CG_OK && i < cg_graph_param_count(tg.graph); i++) {
            const char *name = cg_graph_param_at(tg.graph, i).name;
            bool seen = false;
            for (int j = 0; j < n && !seen; j++)
                seen = !strcmp(names[j], name);
            if (!seen && n < CG_GRAPH_MAX_PARAMS)
                cg__copy_str(names[n++], sizeof names[0], name);
        }
        cg_exp_graph_free(&tg);
    }
    char unmatched[1024] = "", known[1024] = "";
    int missing = 0;
    for (int t = 0; st == CG_OK && t < init->n; t++) {
        bool found = false;
        for (int j = 0; j < n && !found; j++)
            found = !strcmp(names[j], init->tensors[t].name);
        if (!found && missing++ < 8) {
            size_t used = strlen(unmatched);
            snprintf(unmatched + used, sizeof unmatched - used, "%s'%.95s'", used ? ", " : "",
                     init->tensors[t].name);
        }
    }
    for (int j = 0, used = 0; j < n && used + 100 < (int)sizeof known; j++)
        used += snprintf(known + used, sizeof known - (size_t)used, "%s%.95s", j ? ", " : "",
                         names[j]);
    if (st == CG_OK && missing)
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "%s: %d tensor%s match%s no parameter of the experiment: %s%s (its "
                       "parameters: %s); check the names, or pass --init-partial to load the "
                       "matching ones only",
                       path, missing, missing == 1 ? "" : "s", missing == 1 ? "es" : "",
                       unmatched, missing > 8 ? ", ..." : "", known);
    return st;
}

/* Trains and evaluates one (variant, repeat): every stage in turn, then saves the weights. */
static cg_status run_one(const cg_run_options *o, cg_context *ctx, const cg_experiment *e,
                         const char *vname, int repeat, const char *init, bool check_names,
                         const char *dir, recorder *rec, const char *resume_from) {
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
    resume_point rp;
    memset(&rp, 0, sizeof rp);
    if (resume_from) { /* the checkpoint holds what init gave and everything since */
        st = read_checkpoint(resume_from, store, &rp);
        init = NULL;
        if (st == CG_OK && rp.stage >= e->n_stages)
            st = cg__error(CG_ERR_PARSE, "%s: stage %d, but %s has %d; remove the checkpoint to "
                                         "start that repeat again",
                           resume_from, rp.stage + 1, vname, e->n_stages);
        char where[160];
        if (rp.step > 0)
            snprintf(where, sizeof where, "epoch %d at step %d", rp.epoch + 1, rp.step);
        else if (rp.epoch > 0)
            snprintf(where, sizeof where, "after epoch %d", rp.epoch);
        else
            snprintf(where, sizeof where, "at its start");
        if (st == CG_OK)
            fprintf(stderr, "  %s #%d: going on from its checkpoint, stage %d (%s) %s\n", vname,
                    repeat + 1, rp.stage + 1, e->stages[rp.stage].name, where);
    }
    if (init)
        st = cg_param_store_load(store, init);
    if (st == CG_OK && init && check_names)
        st = check_init_names(e, &d, store, init);
    rec->rows = resume_from ? rp.rows : 0;
    repeat_state rs = {o, ctx, e, &d, store, vname, dir, repeat, cfg.seed, rp.epoch_base, rec,
                       cg__now_ms()};
    for (int k = resume_from ? rp.stage : 0; st == CG_OK && k < e->n_stages; k++)
        st = run_stage(&rs, k, k == 0 && init, init,
                       resume_from && k == rp.stage ? &rp : NULL);
    free(rp.ts.opt);
    if (st == CG_OK && !o->no_training) { /* evaluating only, the weights are those loaded */
        char path[4400], v[80];
        snprintf(path, sizeof path, "%s/weights", dir);
        st = cg__mkdir_p(path);
        cg__file_part(v, sizeof v, vname);
        snprintf(path, sizeof path, "%s/weights/%s-r%d.safetensors", dir, v, repeat + 1);
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)cfg.seed);
        const char *meta[] = {"format", "pt", "experiment", e->data.name, "variant", vname,
                              "seed", seed, "producer", "clgraph " CLGRAPH_VERSION};
        if (st == CG_OK)
            st = cg_param_store_save(store, path, meta, 10);
        /* The weights mark the repeat finished: its checkpoint is done with. */
        checkpoint_path(dir, vname, repeat, path, sizeof path);
        if (st == CG_OK)
            remove(path);
    }
    cg_param_store_free(store);
    free(store);
    cg_dataset_free(&d);
    return st;
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

static bool folder_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* The results folder: --out (empty, or with --force), else runs/<name>/<time>/ (or, evaluating
 * a finished run, <run>/eval-<time>/) made anew: a second run in the same second gets
 * <time>-2, never the first one's folder. */
static cg_status make_dir(const cg_run_options *o, const char *name, const char *within,
                         char *dir, size_t cap) {
    if (o->out_dir) {
        snprintf(dir, cap, "%s", o->out_dir);
        struct stat sb;
        if (stat(dir, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return cg__error(CG_ERR_IO, "--out %s is a file, not a folder", dir);
        if (stat(dir, &sb) == 0 && !o->force && !folder_empty(dir))
            return cg__error(CG_ERR_IO, "--out %s holds files already; choose a new folder, or "
                                        "add --force to write over them",
                             dir);
        return cg__mkdir_p(dir);
    }
    char base[4200], stamp[32], part[80];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, within ? "eval-%Y%m%d-%H%M%S" : "%Y%m%d-%H%M%S", &tm);
    cg__file_part(part, sizeof part, name);
    if (within)
        snprintf(base, sizeof base, "%s", within);
    else
        snprintf(base, sizeof base, "runs/%s", part);
    cg_status st = cg__mkdir_p(base);
    for (int i = 1; st == CG_OK && i < 1000; i++) {
        if (i == 1)
            snprintf(dir, cap, "%.3900s/%s", base, stamp);
        else
            snprintf(dir, cap, "%.3900s/%s-%d", base, stamp, i);
        if (mkdir(dir, 0755) == 0)
            return CG_OK;
        if (errno != EEXIST)
            return cg__error(CG_ERR_IO, "cannot make %s: %s", dir, strerror(errno));
    }
    return st == CG_OK ? cg__error(CG_ERR_IO, "no free results folder under %s", base) : st;
}

/* obj[key] = the n names of a char array whose rows are stride bytes apart. */
static void add_names(cJSON *obj, const char *key, const char *first, size_t stride, int n) {
    cJSON *a = obj ? cJSON_AddArrayToObject(obj, key) : NULL;
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(first + (size_t)i * stride));
}

/* run.json: what ran, for the report and for people. */
static cg_status write_run(const char *dir, const cg_run_options *o, const cg_experiment *base,
                           const char *device, char (*variants)[CG_EXP_NAME + 1], int n_variants,
                           int repeats, const char *started, const char *status) {
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for run.json");
    char now[40];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S %z", &tm);
    cJSON_AddStringToObject(j, "experiment", base->data.name);
    cJSON_AddStringToObject(j, "file", o->file);
    cJSON_AddStringToObject(j, "pipeline", base->data.pipeline);
    cJSON_AddStringToObject(j, "command", o->command ? o->command : "");
    cJSON_AddStringToObject(j, "device", device);
    cJSON_AddStringToObject(j, "started", started);
    if (strcmp(status, "running") != 0)
        cJSON_AddStringToObject(j, "finished", now);
    cJSON_AddStringToObject(j, "status", status);
    cJSON_AddStringToObject(j, "clgraph", CLGRAPH_VERSION);
    cJSON_AddNumberToObject(j, "seed", (double)base->data.data.seed);
    cJSON_AddNumberToObject(j, "repeats", repeats);
    add_names(j, "variants", variants[0], sizeof variants[0], n_variants);
    if (base->n_sweep) {
        cJSON *sw = cJSON_AddObjectToObject(j, "sweep");
        cJSON_AddStringToObject(sw, "key", base->sweep_key);
        add_names(sw, "values", base->sweep[0], sizeof base->sweep[0], base->n_sweep);
        add_names(sw, "variants", base->bases[0], sizeof base->bases[0], base->n_bases);
    }
    const cg_exp_report *r = &base->report;
    if (r->reference[0])
        cJSON_AddStringToObject(j, "reference", r->reference);
    cJSON *pairs = r->n_pairs ? cJSON_AddObjectToObject(j, "references") : NULL;
    for (int i = 0; pairs && i < r->n_pairs; i++)
        cJSON_AddStringToObject(pairs, r->pair_variant[i], r->pair_reference[i]);
    cJSON *figs = cJSON_AddArrayToObject(j, "figures");
    for (int i = 0; figs && i < r->n_figures; i++) {
        const cg_exp_figure *f = &r->figures[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToArray(figs, x);
        cJSON_AddStringToObject(x, "type", f->type);
        cJSON_AddStringToObject(x, "title", f->title);
        cJSON_AddStringToObject(x, "metric", f->metric);
        if (f->x[0])
            cJSON_AddStringToObject(x, "x", f->x);
        cJSON *more = f->n_more ? cJSON_AddArrayToObject(x, "metrics") : NULL;
        for (int k = 0; more && k <= f->n_more; k++)
            cJSON_AddItemToArray(more, cJSON_CreateString(k ? f->more[k - 1] : f->metric));
        add_names(x, "splits", f->splits[0], sizeof f->splits[0], f->n_splits);
        add_names(x, "variants", f->variants[0], sizeof f->variants[0], f->n_variants);
    }
    const cg_pipeline *p = cg_pipeline_find(base->data.pipeline);
    if (r->paper_source[0])
        cJSON_AddStringToObject(j, "paper", r->paper_source);
    else if (p && p->paper)
        cJSON_AddStringToObject(j, "paper", p->paper);
    cJSON *tables = r->n_paper_cols ? cJSON_AddArrayToObject(j, "paper_tables") : NULL;
    for (int k = 0; tables && k < r->n_paper_cols; k++) {
        const cg_exp_paper_col *col = &r->paper[k];
        cJSON *table = cJSON_CreateObject();
        if (!table)
            break;
        cJSON_AddItemToArray(tables, table);
        cJSON_AddStringToObject(table, "metric", col->metric);
        cJSON *vals = cJSON_AddObjectToObject(table, "values");
        for (int i = 0; vals && i < col->n; i++)
            cJSON_AddStringToObject(vals, col->variant[i], col->value[i]);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cg_status st = cg_json_write_file(j, path);
    cJSON_Delete(j);
    return st;
}

/* The overrides that make the command line's --epochs and --repeats part of the descriptor. */
static int command_sets(const cg_run_options *o, const cg_experiment *base, char (*buf)[64],
                        const char **sets, int cap) {
    int n = 0;
    for (int i = 0; i < o->n_sets && n < cap; i++)
        sets[n++] = o->sets[i];
    if (o->repeats > 0 && n < cap) {
        snprintf(buf[0], 64, "repeats=%d", o->repeats);
        sets[n++] = buf[0];
    }
    if (o->epochs > 0 || o->no_training) {
        int epochs = o->no_training ? 0 : o->epochs;
        if (!base->staged && n < cap) {
            snprintf(buf[1], 64, "train.epochs=%d", epochs);
            sets[n++] = buf[1];
        }
        for (int k = 0; base->staged && k < base->n_stages && n < cap; k++) {
            snprintf(buf[2 + k], 64, "stages.%d.epochs=%d", k, epochs);
            sets[n++] = buf[2 + k];
        }
    }
    return n;
}

/* What a run does per variant: the file it is read from (with the variant's overrides, or a
 * finished run's descriptor as it is) and, evaluating a finished run, where its weights are. */
typedef struct run_plan {
    int n;
    char names[CG_EXP_MAX_VARIANTS][CG_EXP_NAME + 1];
    char files[CG_EXP_MAX_VARIANTS][4200];
    bool keyed;
    char weights[4200];
} run_plan;

/* A run's variants (those named variant; NULL: all), each from its descriptor; with weights,
 * where its weights are (evaluating a finished run). */
static cg_status plan_from_run(const char *folder, const char *variant, bool weights,
                               run_plan *p) {
    char path[4300];
    snprintf(path, sizeof path, "%s/run.json", folder);
    cJSON *run = NULL;
    cg_status st = cg_json_read_file(path, &run);
    const cJSON *v, *list = cJSON_GetObjectItemCaseSensitive(run, "variants");
    cJSON_ArrayForEach(v, list) {
        if (!cJSON_IsString(v) || p->n == CG_EXP_MAX_VARIANTS)
            continue;
        if (variant && strcmp(variant, v->valuestring) != 0)
            continue;
        char part[80];
        cg__copy_str(p->names[p->n], sizeof p->names[0], v->valuestring);
        cg__file_part(part, sizeof part, v->valuestring);
        snprintf(p->files[p->n++], sizeof p->files[0], "%s/descriptor-%s.yaml", folder, part);
    }
    cJSON_Delete(run);
    if (st == CG_OK && p->n == 0)
        st = cg__error(CG_ERR_NOT_FOUND, "%s: no variant%s%s to %s", path,
                       variant ? " named " : "", variant ? variant : "",
                       weights ? "evaluate" : "run");
    if (weights)
        snprintf(p->weights, sizeof p->weights, "%s/weights", folder);
    return st;
}

/* What an interrupted run found of a (variant, repeat): finished (its weights are there), or
 * the rows its readable checkpoint counts (resumable), or nothing (it starts again); looked
 * once, when first asked (found_at); kept counts the rows metrics.csv keeps of it. */
typedef struct found_repeat {
    bool looked, finished, resumable;
    long rows, kept;
} found_repeat;

/* found[v * CG_EXP_MAX_REPEATS + r], looked up on first use. */
static found_repeat *found_at(found_repeat *found, const char *dir, const run_plan *plan, int v,
                              int r) {
    found_repeat *f = &found[(size_t)v * CG_EXP_MAX_REPEATS + r];
    if (f->looked)
        return f;
    f->looked = true;
    char path[4400], part[80];
    cg__file_part(part, sizeof part, plan->names[v]);
    snprintf(path, sizeof path, "%s/weights/%s-r%d.safetensors", dir, part, r + 1);
    struct stat sb;
    f->finished = stat(path, &sb) == 0;
    checkpoint_path(dir, plan->names[v], r, path, sizeof path);
    if (f->finished || stat(path, &sb) != 0)
        return f;
    static cg_param_store store;
    resume_point rp;
    memset(&store, 0, sizeof store);
    f->resumable = read_checkpoint(path, &store, &rp) == CG_OK;
    cg_param_store_free(&store);
    free(rp.ts.opt);
    f->rows = f->resumable ? rp.rows : 0;
    return f;
}

/* Rewrites metrics.csv for a resumed run: per (variant, repeat) every row of a finished one, the
 * rows a checkpoint counts, or none, in their order; then it is opened for appending. */
static cg_status keep_metrics(const char *dir, const run_plan *plan, found_repeat *found,
                              FILE **out) {
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cg_csv csv;
    cg_status st = cg_csv_read(path, &csv);
    if (st != CG_OK)
        return st;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cg_csv_free(&csv);
        return cg__error(CG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    }
    fprintf(f, "variant,repeat,epoch,split,metric,value\n");
    for (int i = 1; i < csv.n_rows; i++) {
        if (csv.n_fields[i] != 6)
            continue;
        int r = atoi(csv.fields[i][1]), v = 0;
        while (v < plan->n && strcmp(plan->names[v], csv.fields[i][0]) != 0)
            v++;
        if (v == plan->n || r < 0 || r >= CG_EXP_MAX_REPEATS)
            continue;
        found_repeat *k = found_at(found, dir, plan, v, r);
        if (!k->finished && k->kept >= k->rows)
            continue;
        k->kept++;
        for (int c = 0; c < 6; c++) {
            if (c)
                fputc(',', f);
            if (c == 0 || c == 3 || c == 4)
                cg_csv_field(f, csv.fields[i][c]);
            else
                fputs(csv.fields[i][c], f);
        }
        fputc('\n', f);
    }
    bool ok = fclose(f) == 0;
    cg_csv_free(&csv);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return cg__error(CG_ERR_IO, "cannot rewrite %s: %s", path, strerror(errno));
    }
    *out = fopen(path, "a");
    return *out ? CG_OK : cg__error(CG_ERR_IO, "cannot append to %s: %s", path, strerror(errno));
}

cg_status cg_run(const cg_run_options *o) {
    static cg_experiment base, e;
    static run_plan plan;
    memset(&plan, 0, sizeof plan);
    const char *folder = o->from_run ? o->from_run : o->resume;
    cg_status st = folder ? plan_from_run(folder, o->resume ? NULL : o->variant, !o->resume,
                                          &plan)
                          : CG_OK;
    const char *first = folder ? plan.files[0] : o->file;
    if (st == CG_OK)
        st = cg_experiment_load(first, NULL, o->sets, o->n_sets, &base);
    if (st != CG_OK)
        return st;
    char buf[2 + CG_EXP_MAX_STAGES][64];
    const char *sets[64];
    int n_sets = command_sets(o, &base, buf, sets, 64);
    if ((st = cg_experiment_load(first, NULL, sets, n_sets, &base)) != CG_OK)
        return st;
    if (!folder) {
        plan.keyed = base.n_variants > 0;
        plan.n = base.n_variants ? base.n_variants : 1;
        if (o->variant) {
            bool found = false;
            for (int i = 0; i < base.n_variants; i++)
                found = found || !strcmp(base.variants[i], o->variant);
            if (!found)
                return cg__error(CG_ERR_NOT_FOUND, "%s has no variant '%s'", o->file, o->variant);
            plan.n = 1;
        }
        for (int v = 0; v < plan.n; v++) {
            cg__copy_str(plan.names[v], sizeof plan.names[v],
                         o->variant ? o->variant : base.n_variants ? base.variants[v] : "base");
            cg__copy_str(plan.files[v], sizeof plan.files[v], o->file);
        }
    }
    /* Every variant is read before anything runs, so a broken one fails now, not hours in. */
    for (int v = 0; v < plan.n; v++)
        if ((st = cg_experiment_load(plan.files[v], plan.keyed ? plan.names[v] : NULL, sets,
                                     n_sets, &e)) != CG_OK)
            return st;
    cg_context_options copt = {.device = o->device ? o->device
                                         : base.device[0] ? base.device
                                                          : NULL,
                               .autotune = true};
    cg_context *ctx;
    if ((st = cg_context_create(&copt, &ctx)) != CG_OK)
        return st;
    char dir[4096];
    cJSON *before = NULL; /* a resumed run's run.json */
    if (o->resume) {
        snprintf(dir, sizeof dir, "%s", o->resume);
        char rj[4300];
        snprintf(rj, sizeof rj, "%s/run.json", dir);
        st = cg_json_read_file(rj, &before);
        if (st == CG_OK && !strcmp(cg_json_string(before, "status", ""), "finished"))
            st = cg__error(CG_ERR_INVALID_ARGUMENT, "%s finished already; nothing to resume "
                                                    "(clgraph report %s redraws its report)",
                           dir, dir);
    } else {
        st = make_dir(o, base.data.name, o->from_run, dir, sizeof dir);
    }
    if (st != CG_OK) {
        cJSON_Delete(before);
        cg_context_destroy(ctx);
        return st;
    }
    cg_run_options shown = *o; /* what run.json says ran */
    if (o->from_run)
        shown.file = o->from_run;
    if (o->resume) { /* the run as it was started */
        shown.file = cg_json_string(before, "file", o->resume);
        shown.command = cg_json_string(before, "command", "");
    }
    const cg_device_info *dev = cg_context_device(ctx);
    fprintf(stderr, "%s '%s' (%s) on %s; results in %s\n",
            o->from_run ? "evaluating" : o->resume ? "resuming" : "running", base.data.name,
            shown.file, dev->name, dir);
    cg_tuning_state tuning = cg_context_tuning_state(ctx);
    if (tuning == CG_TUNING_NONE_YET || tuning == CG_TUNING_FROM_RUNS)
        fprintf(stderr, "  this device is not fully tuned: convolution algorithms are timed the "
                        "first time a shape runs and kept; 'clgraph tune' (a minute or so, once) "
                        "tunes the GEMMs and work-group sizes too\n");
    else if (tuning == CG_TUNING_IGNORED)
        fprintf(stderr, "  tuning: %s\n", cg_context_tuning(ctx));
    char started[40];
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S %z", &tm);
    if (before)
        cg__copy_str(started, sizeof started, cg_json_string(before, "started", started));
    int repeats = base.repeats;
    st = write_run(dir, &shown, &base, dev->name, plan.names, plan.n, repeats, started,
                   "running");
    if (st == CG_OK)
        st = write_device(ctx, dir);
    static recorder rec;
    memset(&rec, 0, sizeof rec);
    char path[4400];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    found_repeat *found = NULL;
    if (st == CG_OK && o->resume && !(found = calloc((size_t)plan.n * CG_EXP_MAX_REPEATS,
                                                     sizeof *found)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to find what the run finished");
    if (st == CG_OK && o->resume)
        st = keep_metrics(dir, &plan, found, &rec.csv);
    else if (st == CG_OK && !(rec.csv = fopen(path, "w")))
        st = cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (rec.csv && !o->resume) { /* on disk at once: a run stopped now leaves a valid file */
        fprintf(rec.csv, "variant,repeat,epoch,split,metric,value\n");
        fflush(rec.csv);
    }
    char header[8192];
    snprintf(header, sizeof header, "command: %s\nseed: %llu (repeat r uses seed + r)\nclgraph %s",
             o->command ? o->command : "", (unsigned long long)base.data.data.seed,
             CLGRAPH_VERSION);
    /* Every descriptor first: a run stopped in its first variant resumes all of them. */
    for (int v = 0; st == CG_OK && v < plan.n && !o->resume; v++) {
        char part[80];
        cg__file_part(part, sizeof part, plan.names[v]);
        snprintf(path, sizeof path, "%s/descriptor-%s.yaml", dir, part);
        st = cg_experiment_write_resolved(plan.files[v], plan.keyed ? plan.names[v] : NULL, sets,
                                          n_sets, header, path);
    }
    for (int v = 0; st == CG_OK && v < plan.n; v++) {
        const char *variant = plan.keyed ? plan.names[v] : NULL;
        st = cg_experiment_load(plan.files[v], variant, sets, n_sets, &e);
        char part[80];
        cg__file_part(part, sizeof part, plan.names[v]);
        for (int r = 0; st == CG_OK && r < e.repeats; r++) {
            const char *resume_from = NULL;
            char ckpt[4400];
            if (o->resume) {
                const found_repeat *k = found_at(found, dir, &plan, v, r);
                if (k->finished) {
                    fprintf(stderr, "  %s #%d: finished before\n", plan.names[v], r + 1);
                    continue;
                }
                checkpoint_path(dir, plan.names[v], r, ckpt, sizeof ckpt);
                resume_from = k->resumable ? ckpt : NULL;
            }
            char saved[4400];
            snprintf(saved, sizeof saved, "%s/%s-r%d.safetensors", plan.weights, part, r + 1);
            const char *init = plan.weights[0] ? saved
                               : o->init       ? o->init
                               : e.init[0]     ? e.init
                                               : NULL;
            /* A finished run's own weights match by construction; a file the user names is
             * checked (once per variant) for tensors that would load into nothing. */
            bool check = r == 0 && !plan.weights[0] && !o->init_partial;
            int nan_before = rec.nan_stops;
            st = run_one(o, ctx, &e, plan.names[v], r, init, check, dir, &rec, resume_from);
            if (st == CG_ERR_CHECK_FAILED && rec.nan_stops > nan_before) {
                fprintf(stderr, "  %s\n", cg_error_message());
                st = CG_OK; /* the next repeat goes on */
            }
            if (st == CG_OK && stop_requested(o) && (r + 1 < e.repeats || v + 1 < plan.n))
                st = cg__error(CG_ERR_INTERRUPTED, "stopped after %s #%d", plan.names[v], r + 1);
        }
    }
    if (rec.csv)
        fclose(rec.csv);
    free(found);
    cg_status rocs = sweep_rocs(&rec, &base, dir);
    st = st == CG_OK ? rocs : st;
    int drawn = 0; /* the stages' figure entries come from the first variant drawn */
    while (drawn + 1 < plan.n && strcmp(plan.names[drawn], rec.grid_names[0]) != 0)
        drawn++;
    cg_status grids = until_grids(&rec, plan.files[drawn], plan.keyed ? plan.names[drawn] : NULL,
                                  sets, n_sets, dir, plan.n);
    st = st == CG_OK ? grids : st;
    char status[1200];
    snprintf(status, sizeof status, "%s", st == CG_OK ? "finished" : "failed");
    if (st == CG_OK && rec.nan_stops)
        snprintf(status, sizeof status, "finished; %d repeat%s stopped at a loss that was not "
                                        "finite (the last: %.600s)",
                 rec.nan_stops, rec.nan_stops == 1 ? "" : "s", rec.nan_note);
    if (st == CG_ERR_INTERRUPTED) {
        /* What finished, and every checkpoint, is kept: the report says so and how to go on. */
        char message[1024];
        cg__copy_str(message, sizeof message, cg_error_message());
        snprintf(status, sizeof status, "interrupted: %.1000s", message);
        write_run(dir, &shown, &base, dev->name, plan.names, plan.n, repeats, started, status);
        cg_report_build(dir, NULL);
        cg__error(st, "interrupted: %s; the checkpoints are in %s/checkpoints; go on with: "
                      "clgraph run --resume %s",
                  message, dir, dir);
    } else if (st != CG_OK) {
        /* Keep the failure's message: the report is made of what finished. */
        char message[1024];
        cg__copy_str(message, sizeof message, cg_error_message());
        snprintf(status, sizeof status, "failed: %s", message);
        write_run(dir, &shown, &base, dev->name, plan.names, plan.n, repeats, started, status);
        cg_report_build(dir, NULL);
        cg__error(st, "%s", message);
    } else {
        st = write_run(dir, &shown, &base, dev->name, plan.names, plan.n, repeats, started,
                       status);
        if (st == CG_OK)
            st = cg_report_build(dir, stdout);
        if (st == CG_OK)
            fprintf(stderr, "results: %s (report.html, summary.json, metrics.csv, figures/, "
                            "weights/, descriptor-*.yaml, run.json, device.txt)\n",
                    dir);
        if (st == CG_OK && rec.nan_stops) /* everything is written; the exit says it */
            st = cg__error(CG_ERR_CHECK_FAILED, "%d repeat%s stopped at a loss that was not "
                                                "finite (the last: %s); the report has what "
                                                "finished",
                           rec.nan_stops, rec.nan_stops == 1 ? "" : "s", rec.nan_note);
    }
    cJSON_Delete(before);
    cg_context_destroy(ctx);
    return st;
}
