/* Statistics and figures of collected per-sample values (see samples.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/raster.h"
#include "pipelines/samples.h"
#include "report/stats.h"
#include "report/svg.h"

void cg_samples_free(cg_samples *s) {
    for (int i = 0; i < s->n_values; i++)
        free(s->rows[i]);
    memset(s, 0, sizeof *s);
}

/* Column k of a collected value, or a one-number-per-sample array of the split, as doubles
 * (freed by the caller); NULL when the split has neither. *width gets the value's width. */
static double *column(const cg_samples *s, const char *name, int k, int *width) {
    const float *rows = NULL;
    int w = 0;
    for (int i = 0; i < s->n_values && !rows; i++)
        if (!strcmp(s->names[i], name)) {
            rows = s->rows[i];
            w = s->width[i];
        }
    /* Else an array of the split with one row of numbers per sample, (N) or (N, W). */
    const cg_array *a = NULL;
    for (int i = 0; !rows && i < s->split->n_arrays; i++)
        if (!strcmp(s->split->arrays[i].name, name) && s->split->arrays[i].shape.ndim <= 2)
            a = &s->split->arrays[i];
    if (a)
        w = a->shape.ndim == 2 ? a->shape.d[1] : 1;
    if ((!rows && !a) || k >= w)
        return NULL;
    double *out = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *out);
    for (int r = 0; out && r < s->n; r++)
        out[r] = rows ? rows[(size_t)r * w + k]
                 : a->dtype == CG_I32 ? ((const int32_t *)a->data)[(size_t)r * w + k]
                                      : ((const float *)a->data)[(size_t)r * w + k];
    if (width)
        *width = w;
    return out;
}

static cg_status lacks(const cg_experiment *e, const cg_exp_sample_item *it, const cg_samples *s,
                       const char *name) {
    return cg__error(CG_ERR_INVALID_ARGUMENT,
                     "%s:%d:%d: %s '%s' reads '%s', which split '%s' neither collects nor has "
                     "as an array of one number per sample",
                     e->file, it->line, it->col, it->type, it->name, name, s->split->name);
}

/* The ROC curve of scores v against labels (positive where not 0): *fpr and *tpr (freed by the
 * caller, also on failure) get the points, whose count comes back (0 without memory); *auc its
 * area. */
static int roc_of(const double *v, const double *label, int n, double **fpr, double **tpr,
                  double *auc) {
    bool *pos = malloc((size_t)(n > 0 ? n : 1));
    *fpr = malloc((size_t)(n + 2) * sizeof **fpr);
    *tpr = malloc((size_t)(n + 2) * sizeof **tpr);
    int points = 0;
    *auc = NAN;
    if (pos && *fpr && *tpr) {
        for (int r = 0; r < n; r++)
            pos[r] = label[r] != 0;
        points = cg_stats_roc(v, pos, n, *fpr, *tpr, auc);
    }
    free(pos);
    return points;
}

/* Every number of a value per sample (n x *width, freed by the caller); NULL when the split
 * lacks it. */
static double *matrix(const cg_samples *s, const char *name, int *width) {
    int w = 0;
    double *first = column(s, name, 0, &w);
    double *out = first ? malloc((size_t)(s->n > 0 ? s->n : 1) * (size_t)w * sizeof *out) : NULL;
    for (int k = 0; out && k < w; k++) {
        double *c = k ? column(s, name, k, NULL) : first;
        if (!c) {
            free(out);
            out = NULL;
            break;
        }
        for (int r = 0; r < s->n; r++)
            out[(size_t)r * w + k] = c[r];
        if (k)
            free(c);
    }
    free(first);
    *width = w;
    return out;
}

/* A one-number-per-sample value as integers (freed by the caller); NULL when lacking. */
static int *labels_of(const cg_samples *s, const char *name) {
    double *v = column(s, name, 0, NULL);
    int *out = v ? malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *out) : NULL;
    for (int r = 0; out && r < s->n; r++)
        out[r] = isfinite(v[r]) ? (int)lround(v[r]) : -1;
    free(v);
    return out;
}

static const cg_samples *find_split(const cg_samples *all, int n_all, const char *name) {
    for (int k = 0; k < n_all; k++)
        if (all[k].split && !strcmp(all[k].split->name, name))
            return &all[k];
    return NULL;
}

/* An embedding statistic of split s: its points and labels, and those of the reference split
 * (knn_accuracy, stray) or of every listed split (silhouette, only on the first of them; the
 * groups are the splits, compared within each label). NaN where it does not apply here. */
static cg_status embedding_statistic(const cg_experiment *e, const cg_exp_sample_item *it,
                                     const cg_samples *all, int n_all, const cg_samples *s,
                                     double *out) {
    bool silhouette = !strcmp(it->type, "silhouette");
    if (silhouette && strcmp(it->splits[0], s->split->name) != 0)
        return CG_OK;
    const cg_samples *ref = it->reference[0] ? find_split(all, n_all, it->reference) : s;
    if (!ref)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "%s:%d:%d: %s '%s' takes its reference from split '%s', which "
                         "collected nothing",
                         e->file, it->line, it->col, it->type, it->name, it->reference);
    const cg_samples *parts[CG_MAX_SPLITS];
    int n_parts = 0;
    if (silhouette)
        for (int k = 0; k < it->n_splits; k++) {
            if (!(parts[n_parts] = find_split(all, n_all, it->splits[k])))
                return cg__error(CG_ERR_INVALID_ARGUMENT,
                                 "%s:%d:%d: silhouette '%s' groups split '%s', which collected "
                                 "nothing",
                                 e->file, it->line, it->col, it->name, it->splits[k]);
            n_parts++;
        }
    else
        parts[n_parts++] = s;
    if (!silhouette && ref != s)
        parts[n_parts++] = ref;
    /* Read each part's points and labels; they must agree in width. */
    double *x[CG_MAX_SPLITS + 1] = {NULL};
    int *l[CG_MAX_SPLITS + 1] = {NULL}, dim = -1, total = 0;
    cg_status st = CG_OK;
    for (int k = 0; st == CG_OK && k < n_parts; k++) {
        int w = 0;
        x[k] = matrix(parts[k], it->value, &w);
        l[k] = x[k] ? labels_of(parts[k], it->by) : NULL;
        if (!x[k] || !l[k])
            st = lacks(e, it, parts[k], x[k] ? it->by : it->value);
        else if (dim >= 0 && w != dim)
            st = cg__error(CG_ERR_INVALID_ARGUMENT, "%s:%d:%d: '%s' has %d numbers per sample "
                                                    "on one split and %d on another",
                           e->file, it->line, it->col, it->value, dim, w);
        dim = w;
        total += parts[k]->n;
    }
    if (st == CG_OK && !strcmp(it->type, "knn_accuracy"))
        *out = cg_stats_knn_accuracy(x[n_parts - 1], l[n_parts - 1], ref->n, x[0], l[0], s->n,
                                     dim, it->k, ref == s);
    else if (st == CG_OK && !strcmp(it->type, "stray"))
        *out = cg_stats_stray(x[n_parts - 1], l[n_parts - 1], ref->n, x[0], l[0], s->n, dim);
    else if (st == CG_OK && !strcmp(it->type, "linear_separability"))
        *out = cg_stats_linear_separability(x[0], l[0], s->n, dim);
    else if (st == CG_OK) {
        /* Silhouette of the splits as groups, within each label, over all their points. */
        double *px = malloc((size_t)(total > 0 ? total : 1) * (size_t)dim * sizeof *px);
        int *pg = malloc((size_t)(total > 0 ? total : 1) * sizeof *pg);
        int *pl = malloc((size_t)(total > 0 ? total : 1) * sizeof *pl);
        double sum = 0;
        int counted = 0;
        if (!px || !pg || !pl)
            st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a silhouette of %d points",
                           total);
        for (int at = 0, k = 0; st == CG_OK && k < n_parts; k++)
            for (int r = 0; r < parts[k]->n; r++, at++)
                pl[at] = l[k][r];
        for (int label = 0; st == CG_OK && label < total; label++) {
            /* Each distinct label once, at its first point. */
            bool first = true;
            for (int j = 0; j < label && first; j++)
                first = pl[j] != pl[label];
            if (!first)
                continue;
            int m = 0;
            for (int at = 0, k = 0; k < n_parts; k++)
                for (int r = 0; r < parts[k]->n; r++, at++)
                    if (pl[at] == pl[label]) {
                        memcpy(px + (size_t)m * dim, x[k] + (size_t)r * dim,
                               (size_t)dim * sizeof *px);
                        pg[m++] = k;
                    }
            double v = cg_stats_silhouette(px, pg, m, dim);
            if (!isnan(v)) {
                sum += v * m;
                counted += m;
            }
        }
        *out = counted ? sum / counted : NAN;
        free(px);
        free(pg);
        free(pl);
    }
    for (int k = 0; k < n_parts; k++) {
        free(x[k]);
        free(l[k]);
    }
    return st;
}

/* Open-set recognition's F1 over a split: a sample is accepted as the class of its largest score
 * when that score passes the threshold. True positives: known samples accepted as their label;
 * false positives: accepted samples of an unknown class or accepted as a wrong class; false
 * negatives: known samples rejected or accepted as a wrong class. F1 = 2 TP / (2 TP + FP + FN),
 * 0 when nothing counts. */
static cg_status open_set_f(const cg_experiment *e, const cg_exp_sample_item *it,
                            const cg_samples *s, double *out) {
    int K = 0;
    double *score = matrix(s, it->value, &K);
    int *label = labels_of(s, it->by), *known = it->known[0] ? labels_of(s, it->known) : NULL;
    cg_status st = !score ? lacks(e, it, s, it->value)
                   : !label ? lacks(e, it, s, it->by)
                   : it->known[0] && !known ? lacks(e, it, s, it->known)
                                            : CG_OK;
    long tp = 0, fp = 0, fn = 0;
    for (int r = 0; st == CG_OK && r < s->n; r++) {
        const double *row = score + (size_t)r * K;
        int best = 0;
        for (int k = 1; k < K; k++)
            best = row[k] > row[best] ? k : best;
        bool accepted = row[best] > it->threshold, is_known = !known || known[r] != 0;
        bool right = is_known && accepted && best == label[r];
        tp += right;
        fp += accepted && !right;
        fn += is_known && !right;
    }
    *out = st != CG_OK ? NAN : 2 * tp + fp + fn ? 2.0 * tp / (double)(2 * tp + fp + fn) : 0.0;
    free(score);
    free(label);
    free(known);
    return st;
}

/* 1 - sqrt(k / n): n the distinct labels of the split, k those of its known samples. */
static double openness_of(const double *label, const double *known, int n) {
    int seen[2][64], counts[2] = {0, 0};
    for (int r = 0; r < n; r++)
        for (int g = 0; g < 2; g++) {
            if (g == 0 && known[r] == 0)
                continue;
            int l = (int)label[r], j = 0;
            while (j < counts[g] && seen[g][j] != l)
                j++;
            if (j == counts[g] && counts[g] < 64)
                seen[g][counts[g]++] = l;
        }
    return counts[1] ? 1.0 - sqrt((double)counts[0] / counts[1]) : NAN;
}

cg_status cg_samples_statistics(const cg_experiment *e, const cg_exp_stage *sg,
                                const cg_samples *all, int n_all, int which, double *out) {
    const cg_samples *s = &all[which];
    for (int i = 0; i < sg->n_statistics; i++) {
        const cg_exp_sample_item *it = &sg->statistics[i];
        out[i] = NAN;
        if (it->split[0] && strcmp(it->split, s->split->name) != 0)
            continue;
        if (!strcmp(it->type, "knn_accuracy") || !strcmp(it->type, "stray") ||
            !strcmp(it->type, "linear_separability") || !strcmp(it->type, "silhouette")) {
            cg_status st = embedding_statistic(e, it, all, n_all, s, &out[i]);
            if (st != CG_OK)
                return st;
            continue;
        }
        if (!strcmp(it->type, "f_measure")) {
            cg_status st = open_set_f(e, it, s, &out[i]);
            if (st != CG_OK)
                return st;
            continue;
        }
        int width = 1;
        double *v = column(s, it->value, 0, &width);
        if (v && width != 1) {
            free(v);
            return cg__error(CG_ERR_INVALID_ARGUMENT,
                             "%s:%d:%d: %s '%s' reads one number per sample; '%s' has %d",
                             e->file, it->line, it->col, it->type, it->name, it->value, width);
        }
        double *by = it->by[0] ? column(s, it->by, 0, NULL) : NULL;
        if (!v || (it->by[0] && !by)) {
            free(v);
            free(by);
            if (!strcmp(it->type, "auc"))
                return lacks(e, it, s, v ? it->by : it->value);
            continue; /* a mean over a mask this split lacks: not defined here */
        }
        if (!strcmp(it->type, "auc")) {
            double *fpr, *tpr;
            roc_of(v, by, s->n, &fpr, &tpr, &out[i]);
            free(fpr);
            free(tpr);
        } else if (!strcmp(it->type, "mean")) {
            int m = 0;
            for (int r = 0; r < s->n; r++)
                if (!by || by[r] != 0)
                    v[m++] = v[r];
            out[i] = cg_stats_summary(v, m).mean;
        } else if (!strcmp(it->type, "mean_abs_error")) {
            for (int r = 0; r < s->n; r++)
                v[r] = fabs(v[r] - by[r]);
            out[i] = cg_stats_summary(v, s->n).mean;
        } else if (!strcmp(it->type, "openness")) {
            out[i] = openness_of(v, by, s->n);
        } else {
            out[i] = cg_stats_quantile(v, s->n, it->q);
        }
        free(v);
        free(by);
    }
    return CG_OK;
}

/* figures/samples-<variant>[-<stage>]-<index>-<type>-<value>[-<split>].<ext>, its folder
 * made; false when it cannot be. */
static bool figure_path(const char *dir, const char *variant, const cg_experiment *e,
                        const cg_exp_stage *sg, const cg_exp_sample_item *it, const char *split,
                        const char *ext, char *path, size_t cap) {
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/figures", dir);
    if (cg__mkdir_p(sub) != CG_OK)
        return false;
    /* Each part made safe for a file name on its own (the variant already is). */
    char stage[80] = "", type[80], value[80], where[80] = "", name[400];
    if (e->n_stages > 1)
        cg__file_part(stage, sizeof stage, sg->name);
    cg__file_part(type, sizeof type, it->type);
    cg__file_part(value, sizeof value, it->value);
    if (split)
        cg__file_part(where, sizeof where, split);
    /* The figure's place in its block comes first, so that the report shows them in order. */
    snprintf(name, sizeof name, "%s%s%s-%d-%s-%s%s%s", variant, stage[0] ? "-" : "", stage,
             (int)(it - sg->sample_figures) + 1, type, value, split ? "-" : "", where);
    snprintf(path, cap, "%.4000s/samples-%.160s.%s", sub, name, ext);
    return true;
}

static FILE *figure_file(const char *dir, const char *variant, const cg_experiment *e,
                         const cg_exp_stage *sg, const cg_exp_sample_item *it, const char *split,
                         char *path, size_t cap) {
    if (!figure_path(dir, variant, e, sg, it, split, "svg", path, cap))
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return f;
}

static cg_status close_figure(FILE *f, const char *path) {
    return fclose(f) == 0 ? CG_OK : cg__error(CG_ERR_IO, "writing %s failed", path);
}

/* A scatter of a two-number value over one split, or over several in one figure with a marker
 * per split; coloured by an integer array (its distinct values become the classes, in
 * ascending order). */
static cg_status scatter(const cg_experiment *e, const cg_exp_stage *sg,
                         const cg_exp_sample_item *it, const cg_samples *const *parts,
                         int n_parts, const char *dir, const char *variant) {
    int total = 0;
    for (int k = 0; k < n_parts; k++)
        total += parts[k]->n;
    double *x = malloc((size_t)(total > 0 ? total : 1) * sizeof *x);
    double *y = malloc((size_t)(total > 0 ? total : 1) * sizeof *y);
    double *c = it->by[0] ? malloc((size_t)(total > 0 ? total : 1) * sizeof *c) : NULL;
    int *group = malloc((size_t)(total > 0 ? total : 1) * sizeof *group);
    int *cls = calloc((size_t)(total > 0 ? total : 1), sizeof *cls);
    cg_status st = x && y && group && cls && (c || !it->by[0])
                       ? CG_OK
                       : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a scatter of %d points",
                                   total);
    for (int k = 0, at = 0; st == CG_OK && k < n_parts; k++) {
        const cg_samples *s = parts[k];
        int w = 0;
        double *px = column(s, it->value, 0, &w), *py = column(s, it->value, 1, NULL);
        double *pc = it->by[0] ? column(s, it->by, 0, NULL) : NULL;
        if (!px || !py || (it->by[0] && !pc))
            st = !px ? lacks(e, it, s, it->value)
                 : !py ? cg__error(CG_ERR_INVALID_ARGUMENT,
                                   "%s:%d:%d: a scatter plots a value of two numbers per "
                                   "sample; '%s' has %d",
                                   e->file, it->line, it->col, it->value, w)
                       : lacks(e, it, s, it->by);
        for (int r = 0; st == CG_OK && r < s->n; r++, at++) {
            x[at] = px[r];
            y[at] = py[r];
            if (c)
                c[at] = pc[r];
            group[at] = k;
        }
        free(px);
        free(py);
        free(pc);
    }
    double levels[10];
    int n_levels = 0;
    for (int r = 0; st == CG_OK && c && r < total; r++) {
        int k = 0;
        while (k < n_levels && levels[k] != c[r])
            k++;
        if (k == n_levels && n_levels < 10)
            levels[n_levels++] = c[r];
        cls[r] = k < 10 ? k : 9;
    }
    /* Classes in ascending order of their values. */
    int order[10];
    for (int k = 0; k < n_levels; k++)
        order[k] = k;
    for (int a = 1; a < n_levels; a++)
        for (int b = a; b > 0 && levels[order[b]] < levels[order[b - 1]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    int rank[10] = {0};
    for (int k = 0; k < n_levels; k++)
        rank[order[k]] = k;
    for (int r = 0; st == CG_OK && c && r < total; r++)
        cls[r] = rank[cls[r]];
    char names[10][48];
    const char *np[10], *gp[CG_MAX_SPLITS];
    for (int k = 0; k < n_levels; k++) {
        snprintf(names[k], sizeof names[k], "%.30s %g", it->by, levels[order[k]]);
        np[k] = names[k];
    }
    char where[200] = "";
    for (int k = 0, used = 0; k < n_parts && used < (int)sizeof where; k++) {
        gp[k] = parts[k]->split->name;
        used += snprintf(where + used, sizeof where - (size_t)used, "%s%s", k ? ", " : "",
                         gp[k]);
    }
    /* One split: the file is named after it; several: after the figure's name. */
    const char *file_split = it->n_splits > 0 ? it->name : parts[0]->split->name;
    char path[4600], title[300];
    FILE *f = st == CG_OK ? figure_file(dir, variant, e, sg, it, file_split, path, sizeof path)
                          : NULL;
    if (st == CG_OK && !f)
        st = CG_ERR_IO;
    if (f) {
        snprintf(title, sizeof title, "%s: %s on %s", variant, it->value, where);
        cg_plot p = cg_plot_make(title, "dimension 1", "dimension 2");
        cg_svg_scatter(f, &p, x, y, total, c ? cls : NULL, np, c ? n_levels : 0,
                       n_parts > 1 ? group : NULL, gp, n_parts > 1 ? n_parts : 0);
        st = close_figure(f, path);
    }
    free(x);
    free(y);
    free(c);
    free(group);
    free(cls);
    return st;
}

/* Histograms of a value, in two groups where groups is given (0 and not 0). */
static cg_status histogram(const cg_experiment *e, const cg_exp_stage *sg,
                           const cg_exp_sample_item *it, const cg_samples *s, const char *dir,
                           const char *variant) {
    double *v = column(s, it->value, 0, NULL);
    double *g = it->by[0] ? column(s, it->by, 0, NULL) : NULL;
    if (!v || (it->by[0] && !g)) {
        free(v);
        free(g);
        return lacks(e, it, s, v ? it->by : it->value);
    }
    double *a = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *a);
    double *b = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *b);
    int na = 0, nb = 0;
    for (int r = 0; a && b && r < s->n; r++) {
        if (g && g[r] != 0)
            b[nb++] = v[r];
        else
            a[na++] = v[r];
    }
    char la[96], lb[96], path[4600], title[300];
    snprintf(la, sizeof la, g ? "%s = 0" : "all", it->by);
    snprintf(lb, sizeof lb, "%s != 0", it->by);
    cg_values pops[2] = {{la, na, a}, {lb, nb, b}};
    cg_status st = CG_OK;
    FILE *f = a && b ? figure_file(dir, variant, e, sg, it, s->split->name, path, sizeof path)
                     : NULL;
    if (!f)
        st = a && b ? CG_ERR_IO : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a histogram");
    if (f) {
        snprintf(title, sizeof title, "%s: %s on %s", variant, it->value, s->split->name);
        cg_plot p = cg_plot_make(title, it->value, NULL);
        cg_svg_histograms(f, &p, pops, g ? 2 : 1, 30);
        st = close_figure(f, path);
    }
    free(v);
    free(g);
    free(a);
    free(b);
    return st;
}

/* ROC curves of a score, one per split, with the AUC in the legend. */
static cg_status roc(const cg_experiment *e, const cg_exp_stage *sg, const cg_exp_sample_item *it,
                     const cg_samples *splits, int n_splits, const char *dir,
                     const char *variant) {
    cg_line lines[CG_MAX_SPLITS];
    char labels[CG_MAX_SPLITS][96];
    double *fprs[CG_MAX_SPLITS] = {NULL}, *tprs[CG_MAX_SPLITS] = {NULL};
    int n_lines = 0;
    cg_status st = CG_OK;
    for (int k = 0; st == CG_OK && k < n_splits; k++) {
        const cg_samples *s = &splits[k];
        if (it->split[0] && strcmp(it->split, s->split->name) != 0)
            continue;
        double *v = column(s, it->value, 0, NULL), *l = column(s, it->by, 0, NULL), auc;
        int points = 0;
        if (v && l)
            points = roc_of(v, l, s->n, &fprs[n_lines], &tprs[n_lines], &auc);
        else
            st = lacks(e, it, s, v ? it->by : it->value);
        if (points > 0) {
            snprintf(labels[n_lines], sizeof labels[0], "%s (AUC %.3f)", s->split->name, auc);
            lines[n_lines] = (cg_line){labels[n_lines], points, fprs[n_lines], tprs[n_lines],
                                       NULL,            NULL,   false,         n_lines};
            n_lines++;
        } else if (v && l) { /* no memory for this curve: drop its buffers */
            free(fprs[n_lines]);
            free(tprs[n_lines]);
            fprs[n_lines] = tprs[n_lines] = NULL;
        }
        free(v);
        free(l);
    }
    char path[4600], title[300];
    FILE *f = st == CG_OK && n_lines
                  ? figure_file(dir, variant, e, sg, it, NULL, path, sizeof path)
                  : NULL;
    if (st == CG_OK && n_lines && !f)
        st = CG_ERR_IO;
    if (f) {
        snprintf(title, sizeof title, "%s: ROC of %s (positive: %s != 0)", variant, it->value,
                 it->by);
        cg_plot p = cg_plot_make(title, NULL, NULL);
        cg_svg_roc(f, &p, lines, n_lines);
        st = close_figure(f, path);
    }
    for (int k = 0; k < CG_MAX_SPLITS; k++) {
        free(fprs[k]);
        free(tprs[k]);
    }
    return st;
}

void cg_samples_roc_curve(const cg_exp_sample_item *it, const cg_samples *s, cg_roc_curve *c) {
    memset(c, 0, sizeof *c);
    c->auc = NAN;
    double *v = column(s, it->value, 0, NULL), *l = column(s, it->by, 0, NULL);
    if (v && l)
        c->n = roc_of(v, l, s->n, &c->fpr, &c->tpr, &c->auc);
    if (c->n == 0)
        cg_roc_curve_free(c);
    free(v);
    free(l);
}

void cg_roc_curve_free(cg_roc_curve *c) {
    free(c->fpr);
    free(c->tpr);
    c->fpr = c->tpr = NULL;
    c->n = 0;
}

/* The true-positive rate of a curve at false-positive rate x (linear between its points; a
 * vertical step takes its top). */
static double tpr_at(const cg_roc_curve *c, double x) {
    double best = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->fpr[i] <= x)
            best = c->tpr[i] > best ? c->tpr[i] : best;
        if (i > 0 && c->fpr[i - 1] < x && c->fpr[i] > x) {
            double t = (x - c->fpr[i - 1]) / (c->fpr[i] - c->fpr[i - 1]);
            double y = c->tpr[i - 1] + t * (c->tpr[i] - c->tpr[i - 1]);
            best = y > best ? y : best;
        }
    }
    return best;
}

cg_status cg_samples_roc_sweep(const char *dir, const char *variant, const char *sweep_key,
                               const cg_exp_sample_item *it, const cg_roc_curve *curves,
                               const char *const *labels, int n) {
    enum { GRID = 201, MAX = 64 };
    cg_line lines[MAX + 1];
    char names[MAX + 1][96];
    double mx[GRID], my[GRID], auc = 0;
    int n_lines = 0, counted = 0;
    for (int k = 0; k < n && n_lines < MAX; k++) {
        if (curves[k].n == 0)
            continue;
        snprintf(names[n_lines], sizeof names[0], "%.60s (AUC %.3f)", labels[k], curves[k].auc);
        lines[n_lines] = (cg_line){names[n_lines], curves[k].n, curves[k].fpr, curves[k].tpr,
                                   NULL, NULL, true, n_lines};
        n_lines++;
        auc += curves[k].auc;
        counted++;
    }
    if (counted == 0)
        return CG_OK;
    for (int g = 0; g < GRID; g++) {
        mx[g] = (double)g / (GRID - 1);
        my[g] = 0;
        for (int k = 0; k < n; k++)
            my[g] += curves[k].n ? tpr_at(&curves[k], mx[g]) / counted : 0;
    }
    mx[0] = my[0] = 0; /* from (0, 0), as every curve */
    snprintf(names[n_lines], sizeof names[0], "mean (AUC %.3f)", auc / counted);
    lines[n_lines] = (cg_line){names[n_lines], GRID, mx, my, NULL, NULL, false, CG_SVG_INK};
    n_lines++;
    char sub[4200], path[4600], v[80], score[80], title[400];
    snprintf(sub, sizeof sub, "%s/figures", dir);
    cg_status st = cg__mkdir_p(sub);
    cg__file_part(v, sizeof v, variant);
    cg__file_part(score, sizeof score, it->value);
    snprintf(path, sizeof path, "%.4200s/samples-%s-sweep-roc-%s.svg", sub, v, score);
    FILE *f = st == CG_OK ? fopen(path, "w") : NULL;
    if (st == CG_OK && !f)
        return cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (f) {
        snprintf(title, sizeof title, "%.60s: ROC of %.40s over the sweep of %.60s (positive: "
                                      "%.40s != 0), %d runs and their mean",
                 variant, it->value, sweep_key, it->by, counted);
        cg_plot p = cg_plot_make(title, NULL, NULL);
        cg_svg_roc(f, &p, lines, n_lines);
        st = close_figure(f, path);
    }
    return st;
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The distinct values of v, ascending, into out (n of them at most); their count. */
static int distinct(const double *v, int n, double *out) {
    memcpy(out, v, (size_t)n * sizeof *out);
    qsort(out, (size_t)n, sizeof *out, by_double);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || out[i] != out[m - 1])
            out[m++] = out[i];
    return m;
}

static int index_of(const double *sorted, int n, double v) {
    const double *at = bsearch(&v, sorted, (size_t)n, sizeof v, by_double);
    return at ? (int)(at - sorted) : -1;
}

/* A map of a value over samples that lie on a regular grid (the rings' grid split). */
static cg_status heatmap(const cg_experiment *e, const cg_exp_stage *sg,
                         const cg_exp_sample_item *it, const cg_samples *s, const char *dir,
                         const char *variant) {
    int w = 0;
    double *v = column(s, it->value, 0, NULL), *cx = column(s, it->by, 0, &w);
    double *cy = column(s, it->by, 1, NULL);
    double *xs = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *xs);
    double *ys = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *ys);
    double *map = malloc((size_t)(s->n > 0 ? s->n : 1) * sizeof *map);
    cg_status st = CG_OK;
    if (!v || !cx)
        st = lacks(e, it, s, v ? it->by : it->value);
    else if (!cy)
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "%s:%d:%d: heatmap 'at:' takes two coordinates per sample; '%s' has %d",
                       e->file, it->line, it->col, it->by, w);
    else if (!xs || !ys || !map)
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a map of %d points", s->n);
    int nx = st == CG_OK ? distinct(cx, s->n, xs) : 0, ny = st == CG_OK ? distinct(cy, s->n, ys) : 0;
    if (st == CG_OK && (long)nx * ny != s->n)
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "%s:%d:%d: the %d samples of split '%s' are not a regular grid (%d x "
                       "positions, %d y positions)",
                       e->file, it->line, it->col, s->n, s->split->name, nx, ny);
    for (int i = 0; st == CG_OK && i < nx * ny; i++)
        map[i] = NAN;
    for (int r = 0; st == CG_OK && r < s->n; r++) /* row 0 at the top: the largest y */
        map[(size_t)(ny - 1 - index_of(ys, ny, cy[r])) * nx + index_of(xs, nx, cx[r])] = v[r];
    char path[4600], title[300];
    FILE *f = st == CG_OK ? figure_file(dir, variant, e, sg, it, s->split->name, path, sizeof path)
                          : NULL;
    if (st == CG_OK && !f)
        st = CG_ERR_IO;
    if (f) {
        snprintf(title, sizeof title, "%s: %s over %s", variant, it->value, s->split->name);
        cg_plot p = cg_plot_make(title, NULL, NULL);
        cg_svg_heatmap(f, &p, map, nx, ny, xs[0], xs[nx - 1], ys[0], ys[ny - 1], it->value);
        st = close_figure(f, path);
    }
    free(v);
    free(cx);
    free(cy);
    free(xs);
    free(ys);
    free(map);
    return st;
}

cg_status cg_samples_figures(const cg_experiment *e, const cg_exp_stage *sg,
                             const cg_samples *splits, int n_splits, const char *dir,
                             const char *variant, bool without_roc) {
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < sg->n_sample_figures; i++) {
        const cg_exp_sample_item *it = &sg->sample_figures[i];
        if (!strcmp(it->type, "images")) /* drawn by the runner, which has the graph */
            continue;
        if (!strcmp(it->type, "roc")) {
            st = without_roc ? CG_OK : roc(e, sg, it, splits, n_splits, dir, variant);
            continue;
        }
        if (it->n_splits > 0) { /* a scatter of several splits in one figure */
            const cg_samples *parts[CG_MAX_SPLITS];
            int n_parts = 0;
            for (int j = 0; j < it->n_splits; j++)
                for (int k = 0; k < n_splits; k++)
                    if (!strcmp(splits[k].split->name, it->splits[j]))
                        parts[n_parts++] = &splits[k];
            if (n_parts > 0)
                st = scatter(e, sg, it, parts, n_parts, dir, variant);
            continue;
        }
        for (int k = 0; st == CG_OK && k < n_splits; k++) {
            if (it->split[0] && strcmp(it->split, splits[k].split->name) != 0)
                continue;
            const cg_samples *one = &splits[k];
            st = !strcmp(it->type, "scatter")   ? scatter(e, sg, it, &one, 1, dir, variant)
                 : !strcmp(it->type, "heatmap") ? heatmap(e, sg, it, &splits[k], dir, variant)
                                                : histogram(e, sg, it, &splits[k], dir, variant);
        }
    }
    return st;
}

/* The grey level of v in [lo, hi]. */
static uint8_t grey(float v, float lo, float hi) {
    float t = hi > lo ? (v - lo) / (hi - lo) : 0.0f;
    return (uint8_t)(t <= 0 ? 0 : t >= 1 ? 255 : t * 255.0f + 0.5f);
}

cg_status cg_samples_images(const cg_experiment *e, const cg_exp_stage *sg,
                            const cg_exp_sample_item *it, const char *split, int count,
                            const float *const *rows, const int (*chw)[3], const char *dir,
                            const char *variant, const char *const *labels, int n_rows) {
    enum { PAD = 8, GAP = 2 };
    const char *label[CG_SAMPLES_MAX_ROWS];
    n_rows = labels ? (n_rows < CG_SAMPLES_MAX_ROWS ? n_rows : CG_SAMPLES_MAX_ROWS) : it->n_values;
    for (int k = 0; k < n_rows; k++)
        label[k] = labels ? labels[k] : it->values[k];
    int label_w = 0, tile_w = 0, tile_h = 0, scale[CG_SAMPLES_MAX_ROWS];
    for (int k = 0; k < n_rows; k++) {
        int w = cg_raster_text_width(label[k]);
        label_w = label_w > w ? label_w : w;
        scale[k] = chw[k][1] <= 16 ? 4 : chw[k][1] <= 48 ? 2 : 1;
        tile_w = tile_w > chw[k][2] * scale[k] ? tile_w : chw[k][2] * scale[k];
        tile_h = tile_h > chw[k][1] * scale[k] ? tile_h : chw[k][1] * scale[k];
    }
    char title[400], names[240] = "";
    for (int k = 0, used = 0; k < n_rows && used < (int)sizeof names; k++)
        used += snprintf(names + used, sizeof names - (size_t)used, "%s%s",
                         k == 0 ? "" : k + 1 < n_rows ? ", " : " and ", label[k]);
    if (labels)
        snprintf(title, sizeof title, "%s of %s%s%.60s, the first %d samples of %s",
                 it->values[0], names, sg->has_until ? " at the end of " : "",
                 sg->has_until ? sg->name : "", count, split);
    else
        snprintf(title, sizeof title, "%s: %s%s%.60s of the first %d samples of %s", variant,
                 names, sg->has_until ? " at the end of " : "", sg->has_until ? sg->name : "",
                 count, split);
    int w = PAD + label_w + PAD + count * (tile_w + GAP) + PAD;
    int tw = cg_raster_text_width(title) + 2 * PAD;
    w = w > tw ? w : tw;
    int h = PAD + CG_RASTER_LINE_H + PAD + n_rows * (tile_h + GAP) + PAD;
    cg_raster c;
    cg_status st = cg_raster_create(w, h, &c);
    if (st != CG_OK)
        return st;
    cg_raster_text(&c, PAD, PAD, title);
    for (int k = 0; k < n_rows; k++) {
        int C = chw[k][0], H = chw[k][1], W = chw[k][2], sc = scale[k];
        size_t per = (size_t)C * H * W;
        /* Values in [0, 1] as they are; others stretched over their range in this row. */
        float lo = 0, hi = 1;
        for (size_t i = 0; i < (size_t)count * per; i++) {
            lo = rows[k][i] < lo ? rows[k][i] : lo;
            hi = rows[k][i] > hi ? rows[k][i] : hi;
        }
        int y0 = PAD + CG_RASTER_LINE_H + PAD + k * (tile_h + GAP);
        cg_raster_text(&c, PAD, y0 + tile_h / 2 - CG_RASTER_LINE_H / 2, label[k]);
        for (int n = 0; n < count; n++) {
            const float *img = rows[k] + (size_t)n * per;
            int x0 = PAD + label_w + PAD + n * (tile_w + GAP);
            for (int y = 0; y < H * sc; y++)
                for (int x = 0; x < W * sc; x++) {
                    size_t p = (size_t)(y / sc) * W + (size_t)(x / sc);
                    uint8_t r = grey(img[p], lo, hi);
                    uint8_t g = C == 3 ? grey(img[(size_t)H * W + p], lo, hi) : r;
                    uint8_t b = C == 3 ? grey(img[2 * (size_t)H * W + p], lo, hi) : r;
                    cg_raster_put(&c, x0 + x, y0 + y, r, g, b);
                }
        }
    }
    char path[4600];
    if (!figure_path(dir, variant, e, sg, it, split, "png", path, sizeof path))
        st = cg__error(CG_ERR_IO, "cannot make %s/figures", dir);
    if (st == CG_OK)
        st = cg_raster_write_png(&c, path, title);
    cg_raster_free(&c);
    return st;
}
