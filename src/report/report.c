/* The report of a results folder (see report.h). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/common.h"
#include "report/csv.h"
#include "report/json.h"
#include "report/report.h"
#include "report/stats.h"
#include "report/svg.h"
#include "core/raster.h"

/* Figures shown in one report, at most. */
#define CG_REPORT_MAX_FIGURES 48

/* ---- metrics.csv ---- */

typedef struct rec {
    const char *variant, *split, *metric;
    int repeat, epoch;
    double value;
} rec;

typedef struct records {
    cg_csv csv;
    rec *r;
    int n;
} records;

static cg_status load_records(const char *dir, records *out) {
    memset(out, 0, sizeof *out);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    cg_status st = cg_csv_read(path, &out->csv);
    if (st != CG_OK)
        return st;
    const cg_csv *c = &out->csv;
    if (c->n_rows < 1 || c->n_fields[0] != 6 || strcmp(c->fields[0][0], "variant") != 0)
        return cg__error(CG_ERR_PARSE, "%s: not a clgraph metrics file (the header should be "
                                       "variant,repeat,epoch,split,metric,value)",
                         path);
    out->r = calloc((size_t)c->n_rows, sizeof *out->r);
    if (!out->r)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d rows", c->n_rows);
    for (int i = 1; i < c->n_rows; i++) {
        if (c->n_fields[i] == 1 && !c->fields[i][0][0])
            continue; /* an empty last line */
        if (c->n_fields[i] != 6)
            return cg__error(CG_ERR_PARSE, "%s: row %d has %d fields, not 6", path, i + 1,
                             c->n_fields[i]);
        rec *x = &out->r[out->n++];
        x->variant = c->fields[i][0];
        x->repeat = atoi(c->fields[i][1]);
        x->epoch = atoi(c->fields[i][2]);
        x->split = c->fields[i][3];
        x->metric = c->fields[i][4];
        x->value = strtod(c->fields[i][5], NULL);
    }
    return CG_OK;
}

static void free_records(records *r) {
    cg_csv_free(&r->csv);
    free(r->r);
}

/* The last epoch recorded for (variant, repeat), -1 when none. */
static int final_epoch(const records *r, const char *variant, int repeat) {
    int e = -1;
    for (int i = 0; i < r->n; i++)
        if (r->r[i].repeat == repeat && !strcmp(r->r[i].variant, variant) && r->r[i].epoch > e)
            e = r->r[i].epoch;
    return e;
}

/* The repeats recorded for a variant, ascending. */
static int repeats_of(const records *r, const char *variant, int *out, int cap) {
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->r[i].variant, variant) != 0)
            continue;
        bool seen = false;
        for (int k = 0; k < n && !seen; k++)
            seen = out[k] == r->r[i].repeat;
        if (!seen && n < cap)
            out[n++] = r->r[i].repeat;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j] < out[j - 1]; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

/* Training rows: the loss total, each loss ("loss.<name>") and the speed, on the training
 * split of their stage; every other row is an evaluation. */
static bool training_metric(const char *metric) {
    return !strcmp(metric, "loss") || !strncmp(metric, "loss.", 5) ||
           !strcmp(metric, "samples_per_s");
}

static bool same_split(const char *want, const char *have) {
    return !want || !strcmp(want, have);
}

/* The value of (variant, split, metric) at epoch, per repeat (epoch < 0: each repeat's last;
 * split NULL: any split). */
static int values_at(const records *r, const char *variant, const char *split, const char *metric,
                     int epoch, double *out, int cap) {
    int reps[1000], n_reps = repeats_of(r, variant, reps, 1000), n = 0;
    for (int k = 0; k < n_reps && n < cap; k++) {
        int e = epoch >= 0 ? epoch : final_epoch(r, variant, reps[k]);
        for (int i = r->n - 1; i >= 0; i--) {
            const rec *x = &r->r[i];
            if (x->repeat == reps[k] && x->epoch == e && !strcmp(x->variant, variant) &&
                same_split(split, x->split) && !strcmp(x->metric, metric)) {
                out[n++] = x->value;
                break;
            }
        }
    }
    return n;
}

/* ---- what ran: run.json ---- */

typedef struct column {
    const char *split, *metric;
} column;

typedef struct report {
    const char *dir;
    cJSON *run;
    records rec;
    const char *variants[64];
    int n_variants;
    const char *reference;     /* of every variant not named in references */
    const cJSON *references;   /* {variant: its reference} */
    column cols[64];
    int n_cols;
#define MAX_PAPER_TABLES 8 /* as an experiment's report.paper columns */
    /* The study's numbers: per table of run.json's paper_tables, the column of ours it stands
     * beside (-1: none of ours); the first also gives the relative column. */
    int n_paper;
    int paper_col[MAX_PAPER_TABLES];
    /* run.json's sweep: the key, its values' names and the file's variants (the bases; none:
     * one unnamed base), each run variant named <base>_<value> or <value>. */
    const char *sweep_key;
    const char *sweep[64], *bases[64];
    int n_sweep, n_bases;
    char figures[CG_REPORT_MAX_FIGURES][256]; /* file names under figures/ */
    char captions[CG_REPORT_MAX_FIGURES][512];
    int n_figures;
} report;

static const char *run_str(const report *r, const char *key) {
    return cg_json_string(r->run, key, "");
}

static void find_columns(report *r) {
    for (int v = 0; v < r->n_variants; v++) {
        int reps[1000], n = repeats_of(&r->rec, r->variants[v], reps, 1000);
        for (int k = 0; k < n; k++) {
            int e = final_epoch(&r->rec, r->variants[v], reps[k]);
            for (int i = 0; i < r->rec.n && r->n_cols < 64; i++) {
                const rec *x = &r->rec.r[i];
                if (x->epoch != e || x->repeat != reps[k] || strcmp(x->variant, r->variants[v]) ||
                    training_metric(x->metric))
                    continue;
                bool seen = false;
                for (int c = 0; c < r->n_cols && !seen; c++)
                    seen = !strcmp(r->cols[c].split, x->split) &&
                           !strcmp(r->cols[c].metric, x->metric);
                if (!seen)
                    r->cols[r->n_cols++] = (column){x->split, x->metric};
            }
        }
    }
}

/* Mean samples per second of a variant's training epochs. */
static double rate_of(const report *r, const char *variant) {
    double sum = 0;
    int n = 0;
    for (int i = 0; i < r->rec.n; i++) {
        const rec *x = &r->rec.r[i];
        if (!strcmp(x->variant, variant) && !strcmp(x->metric, "samples_per_s") &&
            isfinite(x->value)) {
            sum += x->value;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* The original study's numbers beside ours: run.json's paper_tables (paper_table, one, in
 * folders written before there could be several), each with the column of ours it sits beside,
 * and per variant the paper's text. */
static const cJSON *paper_table(const report *r, int k) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->run, "paper_tables");
    if (cJSON_IsArray(list))
        return cJSON_GetArrayItem(list, k);
    return k == 0 ? cJSON_GetObjectItemCaseSensitive(r->run, "paper_table") : NULL;
}

static void find_paper_columns(report *r) {
    r->n_paper = 0;
    for (int k = 0; k < MAX_PAPER_TABLES && paper_table(r, k); k++) {
        const char *m = cg_json_string(paper_table(r, k), "metric", NULL);
        r->paper_col[k] = -1;
        for (int c = 0; m && c < r->n_cols; c++) {
            char key[256];
            snprintf(key, sizeof key, "%s/%s", r->cols[c].split, r->cols[c].metric);
            if (!strcmp(key, m))
                r->paper_col[k] = c;
        }
        r->n_paper++;
    }
}

/* The table whose numbers sit beside our column c, or -1. */
static int paper_of_column(const report *r, int c) {
    for (int k = 0; k < r->n_paper; k++)
        if (r->paper_col[k] == c)
            return k;
    return -1;
}

static const char *paper_value(const report *r, int k, const char *variant) {
    const cJSON *t = paper_table(r, k);
    return cg_json_string(cJSON_GetObjectItemCaseSensitive(t, "values"), variant, "-");
}

/* One cell of the table: "mean ± sd", the interval from 3 repeats, the p-value against the
 * reference. */
typedef struct cell {
    cg_summary s;
    double p;
    double values[1000];
} cell;

/* The variant that runs base b (-1: the unnamed one) at the sweep's value i, or NULL. */
static const char *swept(const report *r, int b, int i) {
    char name[256];
    cg__sweep_name(name, sizeof name, b >= 0 ? r->bases[b] : NULL, r->sweep[i]);
    for (int v = 0; v < r->n_variants; v++)
        if (!strcmp(r->variants[v], name))
            return r->variants[v];
    return NULL;
}

/* The sweep's value that variant v runs at, or -1 (no sweep); *base gets its base (-1: none). */
static int sweep_value_of(const report *r, const char *v, int *base) {
    for (int b = r->n_bases ? 0 : -1; b < r->n_bases; b++)
        for (int i = 0; i < r->n_sweep; i++) {
            const char *name = swept(r, b, i);
            if (name && !strcmp(name, v)) {
                *base = b;
                return i;
            }
        }
    return -1;
}

/* The variant that v is tested against, or NULL (the reference itself, or none). With a sweep,
 * a reference naming a base stands for that base at v's own value. */
static const char *reference_of(const report *r, const char *v) {
    const char *ref = cg_json_string(r->references, v, NULL);
    if (!ref && r->references)
        return NULL; /* with pairs given, only the variants named are tested */
    ref = ref ? ref : r->reference;
    int base, i = sweep_value_of(r, v, &base);
    for (int b = 0; ref && i >= 0 && b < r->n_bases; b++)
        if (!strcmp(r->bases[b], ref))
            ref = swept(r, b, i);
    return ref && strcmp(ref, v) != 0 ? ref : NULL;
}

static cell *cell_of(const report *r, int v, int c) {
    cell *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    int n = values_at(&r->rec, r->variants[v], r->cols[c].split, r->cols[c].metric, -1, x->values,
                      1000);
    x->s = cg_stats_summary(x->values, n);
    x->p = NAN;
    const char *against = reference_of(r, r->variants[v]);
    if (against) {
        double ref[1000];
        int m = values_at(&r->rec, against, r->cols[c].split, r->cols[c].metric, -1, ref, 1000);
        x->p = cg_stats_welch(x->values, n, ref, m, NULL, NULL);
    }
    return x;
}

static cell *cell_of(const report *r, int v, int c);

/* Our mean of the paper's column relative to the reference variant's ("1.20"), or "-". */
static void relative_text(const report *r, int v, int c, char *out, size_t cap) {
    snprintf(out, cap, "-");
    int ref = -1, base, at = sweep_value_of(r, r->variants[v], &base);
    const char *name = r->reference;
    for (int b = 0; name && at >= 0 && b < r->n_bases; b++)
        if (!strcmp(r->bases[b], name))
            name = swept(r, b, at); /* the reference base at this variant's value */
    for (int i = 0; name && i < r->n_variants; i++)
        if (!strcmp(r->variants[i], name))
            ref = i;
    if (ref < 0)
        return; /* the reference did not run */
    cell *a = cell_of(r, v, c), *b = cell_of(r, ref, c);
    if (a && b && a->s.n && b->s.n && b->s.mean != 0)
        snprintf(out, cap, "%.2f", a->s.mean / b->s.mean);
    free(a);
    free(b);
}

static void cell_text(const cell *x, char *out, size_t cap) {
    int used = 0;
    if (x->s.n == 0)
        used = snprintf(out, cap, "-");
    else if (isnan(x->s.sd))
        used = snprintf(out, cap, "%.4f", x->s.mean);
    else
        used = snprintf(out, cap, "%.4f ± %.4f", x->s.mean, x->s.sd);
    if (!isnan(x->s.ci95) && used < (int)cap)
        used += snprintf(out + used, cap - (size_t)used, " [%.4f, %.4f]", x->s.mean - x->s.ci95,
                         x->s.mean + x->s.ci95);
    if (!isnan(x->p) && used < (int)cap)
        snprintf(out + used, cap - (size_t)used, x->p < 0.001 ? " p<0.001" : " p=%.3f", x->p);
}

/* ---- summary.json ---- */

static cg_status write_summary(report *r) {
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the summary");
    static const char *const keys[] = {"experiment", "file",    "pipeline", "device",
                                       "command",    "clgraph", "started",  "finished",
                                       "status"};
    for (size_t i = 0; i < CG__ARRAY_LEN(keys); i++)
        cJSON_AddStringToObject(doc, keys[i], run_str(r, keys[i]));
    cg_json_add_number(doc, "seed", cg_json_number(r->run, "seed", NAN));
    cg_json_add_number(doc, "repeats", cg_json_number(r->run, "repeats", NAN));
    if (r->reference)
        cJSON_AddStringToObject(doc, "reference", r->reference);
    else
        cJSON_AddNullToObject(doc, "reference");
    cJSON *vars = cJSON_AddObjectToObject(doc, "variants");
    cg_status st = CG_OK;
    for (int v = 0; vars && st == CG_OK && v < r->n_variants; v++) {
        cJSON *o = cJSON_AddObjectToObject(vars, r->variants[v]);
        int reps[1000], n = repeats_of(&r->rec, r->variants[v], reps, 1000), last = -1;
        for (int k = 0; k < n; k++) {
            int e = final_epoch(&r->rec, r->variants[v], reps[k]);
            last = e > last ? e : last;
        }
        cJSON_AddNumberToObject(o, "repeats", n);
        cJSON_AddNumberToObject(o, "epochs", last);
        cg_json_add_number(o, "samples_per_s", rate_of(r, r->variants[v]));
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (int c = 0; m && c < r->n_cols; c++) {
            cell *x = cell_of(r, v, c);
            if (!x) {
                st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the summary");
                break;
            }
            if (x->s.n == 0) {
                free(x);
                continue;
            }
            char key[256];
            snprintf(key, sizeof key, "%s/%s", r->cols[c].split, r->cols[c].metric);
            cJSON *e = cJSON_AddObjectToObject(m, key);
            cg_json_add_number(e, "mean", x->s.mean);
            cg_json_add_number(e, "sd", x->s.sd);
            cg_json_add_number(e, "ci95", x->s.ci95);
            cJSON_AddNumberToObject(e, "n", x->s.n);
            cJSON *vals = cJSON_AddArrayToObject(e, "values");
            for (int i = 0; vals && i < x->s.n; i++)
                cJSON_AddItemToArray(vals, isfinite(x->values[i])
                                               ? cJSON_CreateNumber(x->values[i])
                                               : cJSON_CreateNull());
            int k = paper_of_column(r, c);
            if (k == 0) {
                char rel[32];
                relative_text(r, v, c, rel, sizeof rel);
                cg_json_add_number(e, "relative", strcmp(rel, "-") ? strtod(rel, NULL) : NAN);
            }
            if (k >= 0)
                cJSON_AddStringToObject(e, "paper", paper_value(r, k, r->variants[v]));
            const char *against = reference_of(r, r->variants[v]);
            if (against) {
                cg_json_add_number(e, "welch_p", x->p);
                cJSON_AddStringToObject(e, "welch_against", against);
            }
            free(x);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", r->dir);
    if (st == CG_OK)
        st = cg_json_write_file(doc, path);
    cJSON_Delete(doc);
    return st;
}

/* ---- figures ---- */

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of a folder whose names start with prefix, sorted (not hidden ones, not
 * the temporary files of a write in progress); names[i] are freed by the caller. */
static int sorted_files(const char *path, const char *prefix, char **names, int cap) {
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d)) && n < cap) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, plen) != 0 ||
            strstr(e->d_name, ".tmp"))
            continue;
        char full[4500];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        struct stat sb;
        char *name = stat(full, &sb) == 0 && S_ISREG(sb.st_mode) ? strdup(e->d_name) : NULL;
        if (name)
            names[n++] = name;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    return n;
}

static void slug(char *out, size_t cap, const char *text) {
    size_t n = 0;
    for (; *text && n + 1 < cap && n < 40; text++) {
        char c = *text;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a'), ok = true;
        if (ok)
            out[n++] = c;
        else if (n && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}

/* Opens figures/NN-<title>.svg for the next figure of the report. */
static FILE *next_figure(report *r, const char *title, char *path, size_t cap, cg_status *st) {
    char name[128], s[64];
    slug(s, sizeof s, title);
    snprintf(name, sizeof name, "%02d-%s.svg", r->n_figures + 1, s);
    snprintf(path, cap, "%s/figures", r->dir);
    *st = cg__mkdir_p(path);
    snprintf(path, cap, "%s/figures/%s", r->dir, name);
    FILE *f = *st == CG_OK ? fopen(path, "w") : NULL;
    if (*st == CG_OK && !f)
        *st = cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    cg__copy_str(r->figures[r->n_figures], sizeof r->figures[0], name);
    return f;
}

typedef struct curve {
    int n;
    double x[512], y[512], lo[512], hi[512];
} curve;

/* Mean per epoch over the repeats, with the 95% band where there are 3 repeats or more. */
static void epoch_curve(const records *r, const char *variant, const char *split,
                        const char *metric, curve *c) {
    c->n = 0;
    int epochs[512], n_epochs = 0;
    for (int i = 0; i < r->n && n_epochs < 512; i++) {
        const rec *x = &r->r[i];
        if (strcmp(x->variant, variant) || !same_split(split, x->split) ||
            strcmp(x->metric, metric))
            continue;
        bool seen = false;
        for (int k = 0; k < n_epochs && !seen; k++)
            seen = epochs[k] == x->epoch;
        if (!seen)
            epochs[n_epochs++] = x->epoch;
    }
    for (int i = 1; i < n_epochs; i++)
        for (int j = i; j > 0 && epochs[j] < epochs[j - 1]; j--) {
            int t = epochs[j];
            epochs[j] = epochs[j - 1];
            epochs[j - 1] = t;
        }
    for (int k = 0; k < n_epochs; k++) {
        double v[1000];
        int n = values_at(r, variant, split, metric, epochs[k], v, 1000);
        cg_summary s = cg_stats_summary(v, n);
        c->x[c->n] = epochs[k];
        c->y[c->n] = s.mean;
        c->lo[c->n] = s.mean - s.ci95;
        c->hi[c->n] = s.mean + s.ci95;
        c->n++;
    }
}

/* One figure of metric on the given splits (line style per split) for the given variants
 * (colour per variant); returns false when nothing of it was recorded. */
static cg_status epochs_figure(report *r, const char *title, const char *const *metrics,
                               int n_metrics, const char *const *splits, int n_splits,
                               const char *const *variants, int n_vars, bool *made) {
    const char *metric = metrics[0];
    *made = false;
    int n_lines = 0;
    cg_line lines[64];
    curve *curves = calloc(64, sizeof *curves);
    char labels[64][160];
    if (!curves)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a figure");
    bool band = false;
    for (int v = 0; v < n_vars; v++)
        for (int s = 0; s < n_splits && n_lines < 64; s++) {
            curve *c = &curves[n_lines];
            for (int m = 0; m < n_metrics && c->n == 0; m++) /* the first this split has */
                epoch_curve(&r->rec, variants[v], splits[s], metrics[m], c);
            if (c->n == 0)
                continue;
            for (int k = 0; k < c->n; k++)
                band = band || !isnan(c->lo[k]);
            int colour = 0;
            for (int i = 0; i < r->n_variants; i++)
                if (!strcmp(r->variants[i], variants[v]))
                    colour = i;
            if (n_splits > 1 && splits[s])
                snprintf(labels[n_lines], sizeof labels[0], "%s, %s", variants[v], splits[s]);
            else
                snprintf(labels[n_lines], sizeof labels[0], "%s", variants[v]);
            lines[n_lines] = (cg_line){labels[n_lines], c->n,  c->x,  c->y,
                                       c->lo,           c->hi, s > 0, colour};
            n_lines++;
        }
    cg_status st = CG_OK;
    int longest = 0; /* a metric recorded once (a statistic at a stage's end) has no curve */
    for (int i = 0; i < n_lines; i++)
        longest = lines[i].n > longest ? lines[i].n : longest;
    if (n_lines > 0 && longest > 1 && r->n_figures < CG_REPORT_MAX_FIGURES) {
        char path[4600];
        FILE *f = next_figure(r, title, path, sizeof path, &st);
        if (f) {
            char axis[200] = "";
            for (int m = 0, used = 0; m < n_metrics && used < (int)sizeof axis; m++)
                used += snprintf(axis + used, sizeof axis - (size_t)used, "%s%s",
                                 m ? " / " : "", metrics[m]);
            cg_plot p = cg_plot_make(title, "epoch", n_metrics > 1 ? axis : metric);
            p.integer_x = true;
            cg_svg_lines(f, &p, lines, n_lines);
            if (fclose(f) != 0)
                st = cg__error(CG_ERR_IO, "writing %s failed", path);
        }
        snprintf(r->captions[r->n_figures], sizeof r->captions[0],
                 "%.200s. The mean over the repeats per epoch%s.", title,
                 band ? "; the shaded band is its 95% confidence interval (Student t)"
                      : " (a 95% band needs 3 repeats or more)");
        r->n_figures += st == CG_OK;
        *made = true;
    }
    free(curves);
    return st;
}

/* The figures drawn at run time from collected values (figures/samples-*.svg), after the
 * report's own; each one's caption is its title. */
static void sample_figures(report *r) {
    char path[4200];
    snprintf(path, sizeof path, "%s/figures", r->dir);
    char *names[64];
    int n = sorted_files(path, "samples-", names, 64);
    for (int i = 0; i < n; i++) {
        bool png = strstr(names[i], ".png") != NULL, svg = strstr(names[i], ".svg") != NULL;
        if ((png || svg) && r->n_figures < CG_REPORT_MAX_FIGURES) {
            char full[4600], title[512] = "", *text = NULL;
            snprintf(full, sizeof full, "%s/figures/%s", r->dir, names[i]);
            cg__copy_str(r->figures[r->n_figures], sizeof r->figures[0], names[i]);
            /* The caption is the figure's title (a PNG's tEXt, an SVG's <title>), else its
             * file name. */
            if (png) {
                cg_raster_png_title(full, title, sizeof title);
            } else if (cg__read_file(full, &text, NULL) == CG_OK) {
                char *t = strstr(text, "<title>"), *end = t ? strstr(t, "</title>") : NULL;
                if (t && end)
                    snprintf(title, sizeof title, "%.*s", (int)(end - t - 7), t + 7);
            }
            free(text);
            snprintf(r->captions[r->n_figures], sizeof r->captions[0], "%.500s%s",
                     title[0] ? title : names[i], title[0] ? "." : "");
            r->n_figures++;
        }
        free(names[i]);
    }
}

/* Writes the report's next figure, lines (n_lines of them) or else boxes, with its caption. */
static cg_status put_figure(report *r, const char *title, const cg_plot *p, const cg_line *lines,
                            int n_lines, const cg_values *boxes, int n_boxes,
                            const char *caption) {
    cg_status st = CG_OK;
    if ((n_lines <= 0 && n_boxes <= 0) || r->n_figures >= CG_REPORT_MAX_FIGURES)
        return st;
    char path[4600];
    FILE *f = next_figure(r, title, path, sizeof path, &st);
    if (f) {
        if (n_lines > 0)
            cg_svg_lines(f, p, lines, n_lines);
        else
            cg_svg_boxes(f, p, boxes, n_boxes);
        if (fclose(f) != 0)
            st = cg__error(CG_ERR_IO, "writing %s failed", path);
    }
    snprintf(r->captions[r->n_figures], sizeof r->captions[0], "%.200s. %.300s", title, caption);
    r->n_figures += st == CG_OK;
    return st;
}

/* A box per variant (and split) of the metric's final values over the repeats. */
static cg_status box_figure(report *r, const char *title, const char *metric,
                            const char *const *splits, int n_splits, const char *const *variants,
                            int n_vars) {
    cg_values groups[64];
    char labels[64][160];
    double *vals = calloc(64 * 1000, sizeof *vals);
    if (!vals)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a figure");
    int n = 0;
    for (int v = 0; v < n_vars; v++)
        for (int s = 0; s < n_splits && n < 64; s++) {
            int m = values_at(&r->rec, variants[v], splits[s], metric, -1, vals + n * 1000, 1000);
            if (m == 0)
                continue;
            if (n_splits > 1)
                snprintf(labels[n], sizeof labels[0], "%s, %s", variants[v], splits[s]);
            else
                snprintf(labels[n], sizeof labels[0], "%s", variants[v]);
            groups[n] = (cg_values){labels[n], m, vals + n * 1000};
            n++;
        }
    cg_plot p = cg_plot_make(title, NULL, metric);
    cg_status st = put_figure(r, title, &p, NULL, 0, groups, n,
                              "Each box spans the middle half of the final values over the "
                              "repeats, the line is the median, whiskers reach the furthest value "
                              "within 1.5 times the box.");
    free(vals);
    return st;
}

/* A metric against another over a sweep's values: a line per base variant, a point per
 * distinct x (each value's mean over the repeats, averaged over the values that share x), the
 * band spanning those values' lowest and highest. */
static cg_status sweep_figure(report *r, const char *title, const char *metric, const char *xm,
                              const char *split) {
    int rows = r->n_bases ? r->n_bases : 1, n_lines = 0;
    cg_line lines[64];
    curve *curves = calloc((size_t)rows, sizeof *curves);
    if (!curves)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a figure");
    for (int b = 0; b < rows && b < 64; b++) {
        curve *c = &curves[n_lines];
        int count[512] = {0};
        for (int i = 0; i < r->n_sweep; i++) {
            const char *name = swept(r, r->n_bases ? b : -1, i);
            double v[1000];
            int m = name ? values_at(&r->rec, name, split, xm, -1, v, 1000) : 0;
            double x = cg_stats_summary(v, m).mean;
            m = name ? values_at(&r->rec, name, split, metric, -1, v, 1000) : 0;
            double y = cg_stats_summary(v, m).mean;
            if (!isfinite(x) || !isfinite(y))
                continue;
            int k = 0;
            while (k < c->n && fabs(c->x[k] - x) > 1e-9)
                k++;
            if (k == c->n) {
                if (c->n == 512)
                    continue;
                c->x[k] = x;
                c->y[k] = 0;
                c->lo[k] = c->hi[k] = y;
                c->n++;
            }
            c->y[k] += y;
            c->lo[k] = y < c->lo[k] ? y : c->lo[k];
            c->hi[k] = y > c->hi[k] ? y : c->hi[k];
            count[k]++;
        }
        for (int k = 0; k < c->n; k++)
            c->y[k] /= count[k];
        for (int i = 1; i < c->n; i++) /* by x */
            for (int j = i; j > 0 && c->x[j] < c->x[j - 1]; j--) {
                double *arr[4] = {c->x, c->y, c->lo, c->hi};
                for (int a = 0; a < 4; a++) {
                    double t = arr[a][j];
                    arr[a][j] = arr[a][j - 1];
                    arr[a][j - 1] = t;
                }
            }
        if (c->n == 0)
            continue;
        lines[n_lines] = (cg_line){r->n_bases ? r->bases[b] : metric, c->n, c->x, c->y,
                                   c->lo, c->hi, false, b};
        n_lines++;
    }
    char caption[300];
    snprintf(caption, sizeof caption, "Over the sweep of %.60s: each point is the mean over the "
                                      "repeats, averaged over the values that share its %.40s; "
                                      "the shaded band spans their lowest and highest.",
             r->sweep_key ? r->sweep_key : "", xm);
    cg_plot p = cg_plot_make(title, xm, metric);
    cg_status st = put_figure(r, title, &p, lines, n_lines, NULL, 0, caption);
    free(curves);
    return st;
}

static cg_status make_figures(report *r) {
    const cJSON *figs = cJSON_GetObjectItemCaseSensitive(r->run, "figures");
    cg_status st = CG_OK;
    bool made;
    const cJSON *f;
    int given = 0;
    cJSON_ArrayForEach(f, figs) {
        if (st != CG_OK)
            break;
        const char *splits[4], *vars[64];
        int ns = 0, nv = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(f, "splits")) {
            if (cJSON_IsString(x) && ns < 4)
                splits[ns++] = x->valuestring;
        }
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(f, "variants")) {
            if (cJSON_IsString(x) && nv < 64)
                vars[nv++] = x->valuestring;
        }
        for (int v = 0; nv == 0 && v < r->n_variants; v++)
            vars[v] = r->variants[v];
        if (nv == 0)
            nv = r->n_variants;
        const char *metric = cg_json_string(f, "metric", "accuracy"), *metrics[4] = {metric};
        int nm = 1;
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(f, "metrics")) {
            if (cJSON_IsString(m) && nm < 4 && strcmp(m->valuestring, metric) != 0)
                metrics[nm++] = m->valuestring;
        }
        /* A figure naming no splits shows every split the metric was evaluated on. */
        for (int c = 0; ns == 0 && c < r->n_cols; c++)
            if (!strcmp(r->cols[c].metric, metric) && ns < 4)
                splits[ns++] = r->cols[c].split;
        char title[200];
        const char *type = cg_json_string(f, "type", "epochs");
        bool box = !strcmp(type, "box"), sweep = !strcmp(type, "sweep");
        snprintf(title, sizeof title, "%s", cg_json_string(f, "title", ""));
        if (!title[0] && sweep)
            snprintf(title, sizeof title, "%s against %s", metric, cg_json_string(f, "x", ""));
        if (!title[0])
            snprintf(title, sizeof title, box ? "Final %s over the repeats" : "Test %s per epoch",
                     metric);
        st = sweep  ? sweep_figure(r, title, metric, cg_json_string(f, "x", ""),
                                   ns ? splits[0] : NULL)
             : box ? box_figure(r, title, metric, splits, ns, vars, nv)
                   : epochs_figure(r, title, metrics, nm, splits, ns, vars, nv, &made);
        given++;
    }
    if (st == CG_OK && given == 0) {
        /* Without figures given: one per metric over every split it was evaluated on. */
        for (int c = 0; st == CG_OK && c < r->n_cols; c++) {
            bool first = true;
            for (int d = 0; d < c; d++)
                first = first && strcmp(r->cols[d].metric, r->cols[c].metric) != 0;
            if (!first)
                continue;
            const char *splits[4];
            int ns = 0;
            for (int d = c; d < r->n_cols && ns < 4; d++)
                if (!strcmp(r->cols[d].metric, r->cols[c].metric))
                    splits[ns++] = r->cols[d].split;
            char title[200];
            snprintf(title, sizeof title, "%s per epoch", r->cols[c].metric);
            const char *metric = r->cols[c].metric;
            st = epochs_figure(r, title, &metric, 1, splits, ns, r->variants, r->n_variants,
                               &made);
        }
    }
    if (st == CG_OK) {
        static const char *const any[] = {NULL}, *loss[] = {"loss"};
        st = epochs_figure(r, "Training loss per epoch", loss, 1, any, 1, r->variants,
                           r->n_variants, &made);
    }
    if (st == CG_OK)
        sample_figures(r);
    return st;
}

/* ---- the table, as text and as HTML ---- */

/* The results table as a grid of text cells: row 0 the heads, then one row per variant (its
 * name, a cell per column, relative and the study's value where there is a paper column, and
 * samples/s). With many columns it is turned, a row per column and a column per variant, so
 * that it stays readable. note is what the HTML sets in small type after a variant's name. */
typedef struct grid_cell {
    char text[160];
    char note[64];
} grid_cell;

#define CG_TABLE_TURN_AT 8

typedef struct grid {
    int rows, cols;
    grid_cell *c; /* rows x cols */
} grid;

static grid_cell *grid_at(grid *g, int r, int c) {
    return &g->c[(size_t)r * g->cols + c];
}

/* A table of rows below its head row, a column per metric after the name column and extra more;
 * the head names the variant column and each metric's. */
static cg_status new_grid(const report *r, int rows, int extra, grid *g) {
    *g = (grid){rows + 1, r->n_cols + 1 + extra, NULL};
    g->c = calloc((size_t)g->rows * g->cols, sizeof *g->c);
    if (!g->c)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the table");
    snprintf(grid_at(g, 0, 0)->text, sizeof g->c->text, "variant");
    for (int c = 0; c < r->n_cols; c++)
        snprintf(grid_at(g, 0, c + 1)->text, sizeof g->c->text, "%.70s %.70s", r->cols[c].split,
                 r->cols[c].metric);
    return CG_OK;
}

/* With many columns a table is turned: a row per column, a column per variant. */
static cg_status turn_grid(const report *r, grid g, grid *out) {
    if (r->n_cols > CG_TABLE_TURN_AT) {
        grid t = {g.cols, g.rows, malloc((size_t)g.rows * g.cols * sizeof *g.c)};
        if (!t.c) {
            free(g.c);
            return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the table");
        }
        for (int i = 0; i < t.rows; i++)
            for (int j = 0; j < t.cols; j++)
                *grid_at(&t, i, j) = *grid_at(&g, j, i);
        snprintf(grid_at(&t, 0, 0)->text, sizeof g.c->text, "split, metric");
        free(g.c);
        g = t;
    }
    *out = g;
    return CG_OK;
}

/* Whether the study gives table k a value for any variant that ran (a sweep's are by the
 * file's variants, for the sweep's table). */
static bool paper_names_a_run(const report *r, int k) {
    for (int v = 0; v < r->n_variants; v++)
        if (strcmp(paper_value(r, k, r->variants[v]), "-") != 0)
            return true;
    return false;
}

static cg_status results_grid(const report *r, grid *out) {
    /* the study's columns: those of the tables that sit beside one of ours */
    int pk[MAX_PAPER_TABLES], n_pk = 0, pc = r->n_paper ? r->paper_col[0] : -1;
    for (int k = 0; k < r->n_paper; k++)
        if (r->paper_col[k] >= 0 && paper_names_a_run(r, k))
            pk[n_pk++] = k;
    int extra = (pc >= 0 ? 1 : 0) + n_pk + 1;
    grid g;
    cg_status st = new_grid(r, r->n_variants, extra, &g);
    if (st != CG_OK)
        return st;
    int at = r->n_cols + 1, study_at = at + (pc >= 0 ? 1 : 0);
    if (pc >= 0)
        snprintf(grid_at(&g, 0, at)->text, sizeof g.c->text, "relative");
    for (int i = 0; i < n_pk; i++) {
        const column *c = &r->cols[r->paper_col[pk[i]]];
        if (n_pk == 1)
            snprintf(grid_at(&g, 0, study_at)->text, sizeof g.c->text, "the study");
        else
            snprintf(grid_at(&g, 0, study_at + i)->text, sizeof g.c->text, "the study: %.60s %.60s",
                     c->split, c->metric);
    }
    snprintf(grid_at(&g, 0, g.cols - 1)->text, sizeof g.c->text, "samples/s");
    for (int v = 0; v < r->n_variants; v++) {
        grid_cell *name = grid_at(&g, v + 1, 0);
        snprintf(name->text, sizeof name->text, "%s", r->variants[v]);
        const char *against = reference_of(r, r->variants[v]);
        if (against)
            snprintf(name->note, sizeof name->note, "vs %s", against);
        for (int c = 0; c < r->n_cols; c++) {
            cell *x = cell_of(r, v, c);
            snprintf(grid_at(&g, v + 1, c + 1)->text, sizeof g.c->text, "-");
            if (x)
                cell_text(x, grid_at(&g, v + 1, c + 1)->text, sizeof g.c->text);
            free(x);
        }
        if (pc >= 0)
            relative_text(r, v, pc, grid_at(&g, v + 1, at)->text, sizeof g.c->text);
        for (int i = 0; i < n_pk; i++)
            snprintf(grid_at(&g, v + 1, study_at + i)->text, sizeof g.c->text, "%s",
                     paper_value(r, pk[i], r->variants[v]));
        double rate = rate_of(r, r->variants[v]);
        snprintf(grid_at(&g, v + 1, g.cols - 1)->text, sizeof g.c->text,
                 isnan(rate) ? "-" : "%.0f", rate);
    }
    return turn_grid(r, g, out);
}

/* Over a sweep: per base variant (a row each) and column, the mean and deviation over the
 * sweep's values of each value's mean over the repeats; the study's columns keyed by base. */
static cg_status sweep_grid(const report *r, grid *out) {
    int pk[MAX_PAPER_TABLES], n_pk = 0;
    for (int k = 0; k < r->n_paper; k++)
        if (r->paper_col[k] >= 0)
            pk[n_pk++] = k;
    int rows = r->n_bases ? r->n_bases : 1;
    grid g;
    cg_status st = new_grid(r, rows, n_pk, &g);
    if (st != CG_OK)
        return st;
    for (int i = 0; i < n_pk; i++) {
        const column *c = &r->cols[r->paper_col[pk[i]]];
        snprintf(grid_at(&g, 0, r->n_cols + 1 + i)->text, sizeof g.c->text,
                 "the study: %.60s %.60s", c->split, c->metric);
    }
    for (int b = 0; b < rows; b++) {
        const char *base = r->n_bases ? r->bases[b] : "every value";
        snprintf(grid_at(&g, b + 1, 0)->text, sizeof g.c->text, "%s", base);
        for (int c = 0; c < r->n_cols; c++) {
            double means[64];
            int n = 0;
            for (int i = 0; i < r->n_sweep; i++) {
                const char *name = swept(r, r->n_bases ? b : -1, i);
                double v[1000];
                int m = name ? values_at(&r->rec, name, r->cols[c].split, r->cols[c].metric, -1,
                                         v, 1000)
                             : 0;
                cg_summary sm = cg_stats_summary(v, m);
                if (sm.n)
                    means[n++] = sm.mean;
            }
            cg_summary sm = cg_stats_summary(means, n);
            char *t = grid_at(&g, b + 1, c + 1)->text;
            if (sm.n == 0)
                snprintf(t, sizeof g.c->text, "-");
            else if (isnan(sm.sd))
                snprintf(t, sizeof g.c->text, "%.4f (1 value)", sm.mean);
            else
                snprintf(t, sizeof g.c->text, "%.4f ± %.4f (%d values)", sm.mean, sm.sd, sm.n);
        }
        for (int i = 0; i < n_pk; i++)
            snprintf(grid_at(&g, b + 1, r->n_cols + 1 + i)->text, sizeof g.c->text, "%s",
                     r->n_bases ? paper_value(r, pk[i], base) : "-");
    }
    return turn_grid(r, g, out);
}

/* Characters as a terminal shows them (UTF-8 continuation bytes take no column). */
static int columns_of(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static cg_status print_grid(grid g, FILE *out);

static cg_status print_table(const report *r, FILE *out) {
    grid g;
    cg_status st = results_grid(r, &g);
    if (st == CG_OK)
        st = print_grid(g, out);
    if (st != CG_OK)
        return st;
    int repeats = (int)cg_json_number(r->run, "repeats", 0);
    fprintf(out, "(each variant's final epoch: mean ± standard deviation over %d repeat%s", repeats,
            repeats == 1 ? "" : "s");
    if (repeats >= CG_STATS_MIN_CI)
        fprintf(out, ", [95%% confidence interval, Student t]");
    if (r->references)
        fprintf(out, ", p: Welch's t-test against each variant's reference");
    else if (r->reference && r->n_variants > 1)
        fprintf(out, ", p: Welch's t-test against %s%s", r->reference,
                r->n_sweep ? " at the same sweep value" : "");
    fprintf(out, ")\n");
    if (r->n_sweep && (st = sweep_grid(r, &g)) == CG_OK && (st = print_grid(g, out)) == CG_OK)
        fprintf(out, "(over the sweep of %s: mean ± standard deviation over its values of each "
                     "value's mean over the repeats)\n",
                r->sweep_key ? r->sweep_key : "");
    return st;
}

/* Prints a grid as aligned text columns, and frees it. */
static cg_status print_grid(grid g, FILE *out) {
    int *width = calloc((size_t)g.cols, sizeof *width);
    if (!width) {
        free(g.c);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the table");
    }
    for (int i = 0; i < g.rows; i++)
        for (int j = 0; j < g.cols; j++) {
            int w = columns_of(grid_at(&g, i, j)->text);
            width[j] = w > width[j] ? w : width[j];
        }
    fputc('\n', out);
    for (int i = 0; i < g.rows; i++) {
        for (int j = 0; j < g.cols; j++) {
            const char *t = grid_at(&g, i, j)->text;
            int pad = width[j] - columns_of(t);
            fprintf(out, "%s%s%*s", j ? "  " : "", t, j + 1 < g.cols ? pad : 0, "");
        }
        fputc('\n', out);
    }
    free(width);
    free(g.c);
    return CG_OK;
}

static void html_text(FILE *f, const char *s) {
    cg_xml_text(f, s);
}

/* Links to the files of a subfolder (or of the folder itself), sorted. */
static void html_links(FILE *f, const char *dir, const char *sub) {
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", dir, sub[0] ? "/" : "", sub);
    char *names[512];
    int n = sorted_files(path, "", names, 512);
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "report.html")) {
            free(names[i]);
            continue;
        }
        fprintf(f, "<li><a href=\"");
        if (sub[0]) {
            html_text(f, sub);
            fputc('/', f);
        }
        html_text(f, names[i]);
        fprintf(f, "\">");
        if (sub[0]) {
            html_text(f, sub);
            fputc('/', f);
        }
        html_text(f, names[i]);
        fprintf(f, "</a></li>\n");
        free(names[i]);
    }
}

static void inline_file(FILE *f, const char *path) {
    char *text;
    size_t size;
    if (cg__read_file(path, &text, &size) != CG_OK)
        return;
    fwrite(text, 1, size, f);
    free(text);
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;"
    "margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
    "h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}"
    ".meta{color:#555}.meta td{padding:1px 12px 1px 0;vertical-align:top}"
    "table.results{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums}"
    "table.results th,table.results td{border:1px solid #ccc;padding:4px 10px;text-align:left}"
    "table.results th{background:#f4f4f4}.note{color:#555;font-size:.92em}"
    "figure{margin:1.2em 0}figcaption{color:#444;font-size:.92em;max-width:720px}"
    ".wide{overflow-x:auto}code{background:#f4f4f4;padding:0 3px}.status-failed,.status-interrupted{color:#b00}";

/* Writes a grid's rows (inside a table), and frees it. */
static void html_grid(FILE *f, grid g) {
    for (int i = 0; i < g.rows; i++) {
        fprintf(f, "<tr>");
        for (int j = 0; j < g.cols; j++) {
            const grid_cell *x = grid_at(&g, i, j);
            const char *tag = i == 0 || j == 0 ? "th" : "td";
            fprintf(f, "<%s>", tag);
            html_text(f, x->text);
            if (x->note[0]) {
                fprintf(f, " <span class=\"note\">");
                html_text(f, x->note);
                fprintf(f, "</span>");
            }
            fprintf(f, "</%s>", tag);
        }
        fprintf(f, "</tr>\n");
    }
    free(g.c);
}

static cg_status write_html(report *r) {
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/report.html", r->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cg__error(CG_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    const char *name = run_str(r, "experiment");
    fprintf(f, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>");
    html_text(f, name);
    fprintf(f, " — clgraph report</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
    html_text(f, name);
    fprintf(f, "</h1>\n<table class=\"meta\">\n");
    static const char *const rows[][2] = {
        {"pipeline", "pipeline"}, {"experiment file", "file"}, {"device", "device"},
        {"started", "started"},   {"finished", "finished"},    {"status", "status"},
        {"command", "command"},   {"clgraph", "clgraph"}};
    for (size_t i = 0; i < CG__ARRAY_LEN(rows); i++) {
        const char *v = run_str(r, rows[i][1]);
        if (!v[0])
            continue;
        fprintf(f, "<tr><td>%s</td><td%s>", rows[i][0],
                !strcmp(rows[i][1], "status") && strcmp(v, "finished") ? " class=\"status-failed\""
                                                                       : "");
        if (!strcmp(rows[i][1], "command"))
            fprintf(f, "<code>");
        html_text(f, v);
        fprintf(f, "%s</td></tr>\n", !strcmp(rows[i][1], "command") ? "</code>" : "");
    }
    fprintf(f, "<tr><td>seed, repeats</td><td>%.0f (repeat r uses seed + r), %.0f</td></tr>\n",
            cg_json_number(r->run, "seed", 0), cg_json_number(r->run, "repeats", 0));
    fprintf(f, "</table>\n<h2>Results</h2>\n<div class=\"wide\"><table class=\"results\">\n");
    grid g;
    if (results_grid(r, &g) == CG_OK)
        html_grid(f, g);
    int repeats = (int)cg_json_number(r->run, "repeats", 0);
    fprintf(f, "</table></div>\n<p class=\"note\">Each variant at its own final epoch: mean ± standard "
               "deviation over %d repeat%s",
            repeats, repeats == 1 ? "" : "s");
    if (repeats >= CG_STATS_MIN_CI)
        fprintf(f, "; in brackets the 95%% confidence interval of the mean (Student t)");
    else
        fprintf(f, "; a 95%% confidence interval is shown from %d repeats on", CG_STATS_MIN_CI);
    if (r->references || (r->reference && r->n_variants > 1))
        fprintf(f, "; p is the two-sided p-value of Welch's t-test of the final-epoch values "
                   "against the variant named beside each row");
    fprintf(f, ".</p>\n");
    const char *paper = run_str(r, "paper");
    if (paper[0]) {
        fprintf(f, "<p class=\"note\">The original study: ");
        html_text(f, paper);
        int shown = 0;
        for (int k = 0; k < r->n_paper; k++) {
            int pc = r->paper_col[k];
            if (pc < 0)
                continue;
            fprintf(f, shown++ ? ", " : ". Its numbers stand beside our ");
            html_text(f, r->cols[pc].split);
            fputc(' ', f);
            html_text(f, r->cols[pc].metric);
        }
        if (r->n_paper && r->paper_col[0] >= 0)
            fprintf(f, "; relative is our mean of the first over the reference variant's");
        fprintf(f, ".</p>\n");
    }
    if (r->n_sweep && sweep_grid(r, &g) == CG_OK) {
        fprintf(f, "<h2>Over the sweep of ");
        html_text(f, r->sweep_key ? r->sweep_key : "");
        fprintf(f, "</h2>\n<div class=\"wide\"><table class=\"results\">\n");
        html_grid(f, g);
        fprintf(f, "</table></div>\n<p class=\"note\">Per variant of the file, the mean ± "
                   "standard deviation over the sweep's %d values of each value's mean over the "
                   "repeats%s.</p>\n",
                r->n_sweep, r->n_paper ? "; the study's numbers beside them" : "");
    }
    if (r->n_figures > 0)
        fprintf(f, "<h2>Figures</h2>\n");
    for (int i = 0; i < r->n_figures; i++) {
        char fig[4600];
        snprintf(fig, sizeof fig, "%s/figures/%s", r->dir, r->figures[i]);
        bool png = strstr(r->figures[i], ".png") != NULL;
        fprintf(f, "<figure id=\"figure-%d\">\n", i + 1);
        if (png) { /* an image grid: beside the page, not inlined */
            fprintf(f, "<img src=\"figures/");
            html_text(f, r->figures[i]);
            fprintf(f, "\" alt=\"");
            html_text(f, r->captions[i]);
            fprintf(f, "\">\n");
        } else {
            inline_file(f, fig);
        }
        fprintf(f, "<figcaption>Figure %d. ", i + 1);
        html_text(f, r->captions[i]);
        fprintf(f, " (<a href=\"figures/");
        html_text(f, r->figures[i]);
        fprintf(f, "\">%s</a>)</figcaption>\n</figure>\n", png ? "PNG" : "SVG");
    }
    fprintf(f, "<h2>Files</h2>\n<ul>\n");
    html_links(f, r->dir, "");
    html_links(f, r->dir, "weights");
    html_links(f, r->dir, "samples");
    fprintf(f, "</ul>\n<p class=\"note\">Made by clgraph %s. Rebuild this page with "
               "<code>clgraph report ",
            run_str(r, "clgraph"));
    html_text(f, r->dir);
    fprintf(f, "</code>.</p>\n</body>\n</html>\n");
    bool ok = fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return cg__error(CG_ERR_IO, "writing %s failed: %s", path, strerror(errno));
    }
    return CG_OK;
}

cg_status cg_report_build(const char *dir, FILE *table) {
    report *r = calloc(1, sizeof *r);
    if (!r)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a report");
    r->dir = dir;
    char path[4200];
    snprintf(path, sizeof path, "%s/run.json", dir);
    cg_status st = cg_json_read_file(path, &r->run);
    if (st == CG_OK && !cJSON_IsObject(r->run))
        st = cg__error(CG_ERR_PARSE, "%s: not a clgraph run description", path);
    if (st == CG_OK)
        st = load_records(dir, &r->rec);
    const cJSON *v, *list = st == CG_OK ? cJSON_GetObjectItemCaseSensitive(r->run, "variants")
                                         : NULL;
    cJSON_ArrayForEach(v, list) {
        if (cJSON_IsString(v) && r->n_variants < 64)
            r->variants[r->n_variants++] = v->valuestring;
    }
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(r->run, "sweep");
    r->sweep_key = cg_json_string(sw, "key", NULL);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(sw, "values")) {
        if (cJSON_IsString(v) && r->n_sweep < 64)
            r->sweep[r->n_sweep++] = v->valuestring;
    }
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(sw, "variants")) {
        if (cJSON_IsString(v) && r->n_bases < 64)
            r->bases[r->n_bases++] = v->valuestring;
    }
    const char *ref = cg_json_string(r->run, "reference", NULL);
    for (int i = 0; ref && i < r->n_variants; i++)
        if (!strcmp(r->variants[i], ref))
            r->reference = r->variants[i];
    for (int b = 0; ref && !r->reference && b < r->n_bases; b++)
        if (!strcmp(r->bases[b], ref))
            r->reference = r->bases[b]; /* a sweep's base: at each variant's own value */
    if (!r->reference && r->n_variants > 1)
        r->reference = r->variants[0];
    r->references = cJSON_GetObjectItemCaseSensitive(r->run, "references");
    if (st == CG_OK) {
        find_columns(r);
        find_paper_columns(r);
        st = write_summary(r);
    }
    if (st == CG_OK)
        st = make_figures(r);
    if (st == CG_OK)
        st = write_html(r);
    if (st == CG_OK && table)
        st = print_table(r, table);
    free_records(&r->rec);
    cJSON_Delete(r->run);
    free(r);
    return st;
}
