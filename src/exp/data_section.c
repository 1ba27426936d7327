/* Reading name, pipeline, seed and data from an experiment (see data_section.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/data_section.h"
#include "pipelines/pipeline.h"

const char *const cg_exp_top_keys[] = {"name",   "pipeline",  "seed",  "repeats", "device",
                                       "data",   "model",     "graph", "losses",  "optimizer",
                                       "train",  "stages",    "variants", "sweep", "evaluate", "init",
                                       "report"};
const size_t cg_exp_top_key_count = CG__ARRAY_LEN(cg_exp_top_keys);

/* A list of whole numbers in [lo, hi], at most cap of them. */
static cg_status int_list(const cg_ydoc *doc, const cg_ynode *node, const char *key, long lo,
                          long hi, int *out, int cap, int *n) {
    if (node->kind != CG_YSEQ)
        return cg_yerror(doc, node, "'%s' must be a list such as [4, 9]", key);
    if (node->n > cap)
        return cg_yerror(doc, node, "'%s' has %d entries; at most %d", key, node->n, cap);
    for (int i = 0; i < node->n; i++) {
        long v;
        cg_status st = cg_yget_int(doc, node->items[i], key, lo, hi, &v);
        if (st != CG_OK)
            return st;
        out[i] = (int)v;
    }
    *n = node->n;
    return CG_OK;
}

/* pair_weights: [positive, same-class negative, other-class negative], each >= 0. */
static cg_status pair_weights(const cg_ydoc *doc, const cg_ynode *node, float *out) {
    if (node->kind != CG_YSEQ || node->n != 3)
        return cg_yerror(doc, node, "'pair_weights' is a list of three weights such as "
                                    "[1, 0.2, 1]: positives, negatives of the same class, "
                                    "negatives of the other class");
    for (int i = 0; i < 3; i++) {
        double w;
        cg_status st = cg_yget_float(doc, node->items[i], "pair_weights", &w);
        if (st == CG_OK && !(w >= 0 && w <= 1e6))
            st = cg_yerror(doc, node->items[i], "a pair weight is %g; use a number >= 0", w);
        if (st != CG_OK)
            return st;
        out[i] = (float)w;
    }
    return CG_OK;
}

/* A path relative to the experiment file's folder, unless absolute. */
static cg_status resolve(const cg_ydoc *doc, const cg_ynode *node, const char *path, char *out,
                         size_t cap) {
    const char *slash = strrchr(doc->file, '/');
    size_t dir = path[0] == '/' || !slash ? 0 : (size_t)(slash - doc->file) + 1;
    if (dir + strlen(path) >= cap)
        return cg_yerror(doc, node, "the path '%s' is too long", path);
    memcpy(out, doc->file, dir);
    memcpy(out + dir, path, strlen(path) + 1);
    return CG_OK;
}

/* Every key of the data mapping must be one the pipeline takes: a key only another pipeline
 * takes is named as such, with the keys this one takes; any other key gets a did-you-mean hint
 * over every data key there is. */
static cg_status check_data_keys(const cg_ydoc *doc, const cg_ynode *map, const cg_pipeline *p) {
    const char *all[64], *mine[64];
    size_t n_all = 0, n_mine = 0;
    for (const char *const *k = cg_pipeline_common_keys; *k; k++)
        all[n_all++] = mine[n_mine++] = *k;
    for (size_t i = 0; i < cg_pipeline_count(); i++)
        for (const char *const *k = cg_pipeline_at(i)->data_keys; k && *k && n_all < 64; k++) {
            bool seen = false;
            for (size_t j = 0; j < n_all && !seen; j++)
                seen = strcmp(all[j], *k) == 0;
            if (!seen)
                all[n_all++] = *k;
        }
    for (const char *const *k = p->data_keys; k && *k && n_mine < 64; k++)
        mine[n_mine++] = *k;
    cg_status st = cg_ycheck_keys(doc, map, "data", all, n_all);
    for (int i = 0; st == CG_OK && i < map->n; i++) {
        const char *k = map->keys[i]->value;
        if (cg_pipeline_takes(p, k))
            continue;
        char owners[128] = "", list[512] = "";
        for (size_t j = 0, used = 0; j < cg_pipeline_count(); j++)
            if (cg_pipeline_takes(cg_pipeline_at(j), k))
                used += (size_t)snprintf(owners + used, sizeof owners - used, "%s%s",
                                         used ? ", " : "", cg_pipeline_at(j)->name);
        for (size_t j = 0, used = 0; j < n_mine; j++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                     mine[j]);
        st = cg_yerror(doc, map->keys[i],
                       "'%s' is a data key of the %s pipeline%s, not of %s; the %s pipeline's "
                       "data keys are: %s",
                       k, owners, strchr(owners, ',') ? "s" : "", p->name, p->name, list);
    }
    return st;
}

static cg_status parse_data(const cg_ydoc *doc, const cg_ynode *map, const cg_pipeline *p,
                            cg_data_config *c) {
    cg_status st = check_data_keys(doc, map, p);
    static const char *const datasets[] = {"mnist", "fashion-mnist"};
    static const char *const bgs[] = {"procedural", "cifar10"};
    static const char *const tasks[] = {"embedding", "compare", "classify", "open_set",
                                        "one_class", "rings"};
    static const char *const minings[] = {"random", "knn"};
    static const char *const negs[] = {"other_class", "other_or_non_neighbour"};
    for (int i = 0; st == CG_OK && i < map->n; i++) {
        const char *k = map->keys[i]->value;
        const cg_ynode *v = map->items[i];
        long n;
        char buf[1024];
        if (strcmp(k, "dataset") == 0)
            st = cg_yget_choice(doc, v, k, datasets, 2, c->dataset, sizeof c->dataset);
        else if (strcmp(k, "path") == 0 || strcmp(k, "cifar10") == 0) {
            st = cg_yget_str(doc, v, k, buf, sizeof buf);
            if (st == CG_OK)
                st = resolve(doc, v, buf, k[0] == 'p' ? c->path : c->cifar_path, sizeof c->path);
            if (k[0] == 'p')
                snprintf(c->path_at, sizeof c->path_at, "%.1000s:%d:%d", doc->file, v->line,
                         v->col);
        } else if (strcmp(k, "backgrounds") == 0)
            st = cg_yget_choice(doc, v, k, bgs, 2, c->backgrounds, sizeof c->backgrounds);
        else if (strcmp(k, "train") == 0 || strcmp(k, "test") == 0) {
            st = cg_yget_int(doc, v, k, 1, 10000000, &n);
            *(k[1] == 'r' ? &c->n_train : &c->n_test) = (int)n;
        } else if (strcmp(k, "pools_per_class") == 0 || strcmp(k, "ood_pool") == 0) {
            /* Every background is held in memory as 3x32x32 floats (12 KB): 5,000 per pool
             * keeps the 10 class pools and the held-out one under 700 MB. */
            st = cg_yget_int(doc, v, k, 1, 1000000000, &n);
            if (st == CG_OK && n > 5000)
                st = cg_yerror(doc, v, "%s is %ld; at most 5000 (each background is held in "
                                       "memory, 12 KB, and 10 pools of %ld would need %.1f GB)",
                               k, n, n, 10.0 * (double)n * 12288 / 1e9);
            *(k[0] == 'p' ? &c->pools_per_class : &c->ood_pool) = (int)n;
        } else if (strcmp(k, "classes") == 0) {
            st = int_list(doc, v, k, 0, 9, c->classes, 10, &c->n_classes);
            for (int i = 0; st == CG_OK && i < c->n_classes; i++)
                for (int j = 0; st == CG_OK && j < i; j++)
                    if (c->classes[i] == c->classes[j])
                        st = cg_yerror(doc, v, "classes: names %d twice; list each class once "
                                               "(pairs need two different classes, such as "
                                               "[4, 9])",
                                       c->classes[i]);
        } else if (strcmp(k, "task") == 0)
            st = cg_yget_choice(doc, v, k, tasks, CG__ARRAY_LEN(tasks), c->task, sizeof c->task);
        else if (strcmp(k, "mining") == 0)
            st = cg_yget_choice(doc, v, k, minings, 2, c->mining, sizeof c->mining);
        else if (strcmp(k, "neighbours") == 0) {
            st = cg_yget_int(doc, v, k, 1, 100, &n);
            c->k_neighbours = (int)n;
        } else if (strcmp(k, "negatives") == 0)
            st = cg_yget_choice(doc, v, k, negs, 2, c->negatives, sizeof c->negatives);
        else if (strcmp(k, "triplets") == 0)
            st = cg_yget_bool(doc, v, k, &c->triplets);
        else if (strcmp(k, "shifts") == 0)
            st = int_list(doc, v, k, -27, 27, c->shifts, 4, &c->n_shifts);
        else if (strcmp(k, "pair_weights") == 0)
            st = pair_weights(doc, v, c->pair_weights);
        else if (strcmp(k, "labeled_per_class") == 0) {
            st = cg_yget_int(doc, v, k, 1, 100000, &n);
            c->n_labeled = (int)n;
        } else if (strcmp(k, "grid") == 0) {
            st = cg_yget_int(doc, v, k, 2, 4096, &n);
            c->grid = (int)n;
        } else if (strcmp(k, "fooling_trials") == 0) {
            st = cg_yget_int(doc, v, k, 0, 1000, &n);
            c->fooling_trials = (int)n;
        }
    }
    return st;
}

/* "baseline, similarity, ..." */
static const char *pipeline_list(void) {
    static char list[256];
    list[0] = '\0';
    for (size_t i = 0, used = 0; i < cg_pipeline_count(); i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 cg_pipeline_at(i)->name);
    return list;
}

cg_status cg_exp_data_parse(const cg_ydoc *doc, cg_exp_data *out) {
    memset(out, 0, sizeof *out);
    const cg_ynode *root = doc->root;
    if (!root || root->kind != CG_YMAP)
        return cg_yerror(doc, root, "an experiment is a mapping of keys such as 'pipeline:' and "
                                    "'data:'; this file holds %s",
                         root ? "something else" : "nothing");
    cg_status st = cg_ycheck_keys(doc, root, "the experiment", cg_exp_top_keys,
                                  cg_exp_top_key_count);
    if (st != CG_OK)
        return st;
    const cg_ynode *p = cg_ymap_get(root, "pipeline");
    if (!p)
        return cg_yerror(doc, root, "the experiment has no 'pipeline:'; choose one of %s",
                         pipeline_list());
    const char *names[16];
    size_t n_names = 0;
    for (; n_names < cg_pipeline_count() && n_names < 16; n_names++)
        names[n_names] = cg_pipeline_at(n_names)->name;
    st = cg_yget_choice(doc, p, "pipeline", names, n_names, out->pipeline, sizeof out->pipeline);
    if (st != CG_OK)
        return st;
    cg_data_defaults(out->pipeline, &out->data);
    const cg_ynode *name = cg_ymap_get(root, "name");
    if (name)
        st = cg_yget_str(doc, name, "name", out->name, sizeof out->name);
    else
        snprintf(out->name, sizeof out->name, "%s", out->pipeline);
    const cg_ynode *seed = cg_ymap_get(root, "seed");
    long s = 0;
    if (st == CG_OK && seed && (st = cg_yget_int(doc, seed, "seed", 0, 2147483647L, &s)) == CG_OK)
        out->data.seed = (uint64_t)s;
    const cg_ynode *data = cg_ymap_get(root, "data");
    if (st == CG_OK && data)
        st = parse_data(doc, data, cg_pipeline_find(out->pipeline), &out->data);
    return st;
}

cg_status cg_exp_data_load(const char *path, cg_exp_data *out) {
    cg_ydoc *doc;
    cg_status st = cg_ydoc_load(path, &doc);
    if (st != CG_OK)
        return st;
    st = cg_exp_data_parse(doc, out);
    cg_ydoc_free(doc);
    return st;
}
