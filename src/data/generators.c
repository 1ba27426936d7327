/* The generators: from loaded images to the splits each pipeline trains and tests on. Every
 * random choice comes from a Philox stream of the experiment's seed, so the same seed gives the
 * same bytes on every machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

enum { D28 = 28 * 28 };

/* Streams of one seed, one per purpose, so changing one knob does not reshuffle the rest. */
enum {
    STREAM_ORDER = 1,
    STREAM_BG,
    STREAM_PAIRS,
    STREAM_TRIPLETS,
    STREAM_RINGS,
    STREAM_LABELED,
    STREAM_FOOLING
};

static int at_most(int want, int have) {
    return want > 0 && want < have ? want : have;
}

/* A shuffled index of n items. */
static int *shuffled(int n, uint64_t seed, uint32_t stream) {
    int *p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p)
        return NULL;
    for (int i = 0; i < n; i++)
        p[i] = i;
    cg__rng r;
    cg__rng_init(&r, seed, stream);
    cg__rng_shuffle(&r, p, n);
    return p;
}

static bool in_list(const int *list, int n, int v) {
    for (int i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

/* Copies a 28x28 digit as floats in [0, 1], shifted right by dx pixels (zeros come in). */
static void digit_float(float *out, const uint8_t *d, int dx) {
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            int sx = x - dx;
            out[y * 28 + x] = sx >= 0 && sx < 28 ? d[y * 28 + sx] / 255.0f : 0.0f;
        }
}

/* ---- baseline and similarity: digits on backgrounds ---- */

static cg_status digits_split(cg_dataset *out, const char *name, const cg_images *im, int n,
                              const cg_backgrounds *bg, int pool_start, int pool_size,
                              bool per_class, uint64_t seed, uint32_t stream) {
    cg_split *s = cg_dataset_add_split(out, name);
    cg_array *x = cg_split_add(s, "x", CG_F32, cg_shape_make(4, n, 3, 32, 32));
    cg_array *y = x ? cg_split_add(s, "y", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    cg_array *b = y ? cg_split_add(s, "bg", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    int *order = b ? shuffled(im->n, seed, stream) : NULL;
    if (!order)
        return CG_ERR_OUT_OF_MEMORY;
    cg__rng r;
    cg__rng_init(&r, seed, STREAM_BG + 16 * stream);
    for (int i = 0; i < n; i++) {
        int src = order[i % im->n], label = im->labels[src];
        /* Class k's pool is [k * pool, (k + 1) * pool); the held-out pool starts at 10 * pool. */
        int id = (per_class ? label * pool_size : pool_start) + (int)cg__rng_below(&r, (uint32_t)pool_size);
        cg_composite_digit((float *)x->data + (size_t)i * 3 * 1024, bg->rgb + (size_t)id * 3 * 1024,
                           im->pixels + (size_t)src * D28);
        ((int32_t *)y->data)[i] = label;
        ((int32_t *)b->data)[i] = id;
    }
    free(order);
    return CG_OK;
}

cg_status cg_gen_digits_on_backgrounds(const cg_data_config *c, const cg_images *train,
                                        const cg_images *test, cg_dataset *out) {
    int P = c->pools_per_class, total = 10 * P + c->ood_pool;
    if (P < 1 || c->ood_pool < 1)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "backgrounds per class pool (%d) and held-out backgrounds (%d) must be "
                         "at least 1",
                         P, c->ood_pool);
    cg_backgrounds bg = {0};
    cg_status st;
    if (strcmp(c->backgrounds, "cifar10") == 0) {
        char paths[6][1100];
        const char *list[6];
        for (int i = 0; i < 6; i++) {
            if (i < 5)
                snprintf(paths[i], sizeof paths[i], "%s/data_batch_%d.bin", c->cifar_path, i + 1);
            else
                snprintf(paths[i], sizeof paths[i], "%s/test_batch.bin", c->cifar_path);
            list[i] = paths[i];
        }
        /* Whatever batches are present: at least data_batch_1.bin. */
        int n = 0;
        for (int i = 0; i < 6; i++) {
            FILE *f = fopen(list[i], "rb");
            if (f) {
                fclose(f);
                list[n++] = list[i];
            }
        }
        if (n == 0)
            return cg__error(CG_ERR_NOT_FOUND,
                             "no CIFAR-10 batches (data_batch_1.bin ... test_batch.bin) in '%s'; "
                             "set the data's cifar10 folder, or use the procedural backgrounds",
                             c->cifar_path);
        cg_images cif;
        st = cg_images_load_cifar10(list, n, &cif);
        if (st != CG_OK)
            return st;
        st = cg_backgrounds_from_images(&cif, total, c->seed, &bg);
        cg_images_free(&cif);
    } else if (strcmp(c->backgrounds, "procedural") == 0) {
        st = cg_backgrounds_procedural(total, c->seed, &bg);
    } else {
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "unknown background source '%s'; use procedural or cifar10",
                         c->backgrounds);
    }
    if (st != CG_OK)
        return st;
    int nt = at_most(c->n_train, train->n), ne = at_most(c->n_test, test->n);
    st = digits_split(out, "train", train, nt, &bg, 0, P, true, c->seed, 10);
    if (st == CG_OK)
        st = digits_split(out, "test_id", test, ne, &bg, 0, P, true, c->seed, 11);
    if (st == CG_OK)
        st = digits_split(out, "test_ood", test, ne, &bg, 10 * P, c->ood_pool, false, c->seed, 12);
    cg_backgrounds_free(&bg);
    return st;
}

/* ---- siamese: pairs, triplets, shifted test sets; digit comparison ---- */

/* The images of the listed classes, as indices into im. */
static int *filter(const cg_images *im, const int *classes, int n_classes, int *count) {
    int *idx = malloc((size_t)(im->n ? im->n : 1) * sizeof *idx);
    *count = 0;
    for (int i = 0; idx && i < im->n; i++)
        if (in_list(classes, n_classes, im->labels[i]))
            idx[(*count)++] = i;
    return idx;
}

static cg_status images_split(cg_dataset *out, const char *name, const cg_images *im,
                              const int *idx, int n, int dx) {
    cg_split *s = cg_dataset_add_split(out, name);
    cg_array *x = s ? cg_split_add(s, "x", CG_F32, cg_shape_make(4, n, 1, 28, 28)) : NULL;
    cg_array *y = x ? cg_split_add(s, "y", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    if (!y)
        return CG_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++) {
        digit_float((float *)x->data + (size_t)i * D28, im->pixels + (size_t)idx[i] * D28, dx);
        ((int32_t *)y->data)[i] = im->labels[idx[i]];
    }
    return CG_OK;
}

/* As the study: every image of every split (x, x1, x2, anchor, ...) standardised by the mean
 * and standard deviation of the pixels of the training images of the two classes; a pixel that
 * a shift brought in (0) becomes the standardised 0, as the background. */
static void standardise(cg_dataset *out, const cg_images *train, const int *idx, int n) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++)
        for (int p = 0; p < D28; p++) {
            double v = train->pixels[(size_t)idx[i] * D28 + p] / 255.0;
            s += v;
            s2 += v * v;
        }
    double count = (double)n * D28, mean = s / count;
    double sd = sqrt(fmax(s2 / count - mean * mean, 0));
    float m = (float)mean, inv = sd > 0 ? (float)(1 / sd) : 1.0f;
    for (int k = 0; k < out->n_splits; k++)
        for (int a = 0; a < out->splits[k].n_arrays; a++) {
            cg_array *arr = &out->splits[k].arrays[a];
            if (arr->dtype != CG_F32 || arr->shape.ndim != 4)
                continue;
            float *v = arr->data;
            for (size_t i = 0, e = cg_shape_numel(&arr->shape); i < e; i++)
                v[i] = (v[i] - m) * inv;
        }
}

/* For each of the n images (indices idx), its k most cosine-similar images of the same class.
 * nb is (n, k) of positions into idx. */
static int *neighbours(const cg_images *im, const int *idx, int n, int k) {
    double *norm = malloc((size_t)(n ? n : 1) * sizeof *norm);
    int *nb = malloc((size_t)(n ? n : 1) * (size_t)k * sizeof *nb);
    double *best = malloc((size_t)k * sizeof *best);
    if (!norm || !nb || !best) {
        free(norm);
        free(nb);
        free(best);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int p = 0; p < D28; p++) {
            double v = im->pixels[(size_t)idx[i] * D28 + p];
            s += v * v;
        }
        norm[i] = sqrt(s) + 1e-12;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *a = im->pixels + (size_t)idx[i] * D28;
        for (int j = 0; j < k; j++) {
            best[j] = -2;
            nb[(size_t)i * k + j] = i;
        }
        for (int j = 0; j < n; j++) {
            if (j == i || im->labels[idx[j]] != im->labels[idx[i]])
                continue;
            const uint8_t *b = im->pixels + (size_t)idx[j] * D28;
            long dot = 0;
            for (int p = 0; p < D28; p++)
                dot += (long)a[p] * b[p];
            double cs = (double)dot / (norm[i] * norm[j]);
            if (cs <= best[k - 1])
                continue;
            int at = k - 1; /* insertion into the sorted top-k */
            while (at > 0 && best[at - 1] < cs) {
                best[at] = best[at - 1];
                nb[(size_t)i * k + at] = nb[(size_t)i * k + at - 1];
                at--;
            }
            best[at] = cs;
            nb[(size_t)i * k + at] = j;
        }
    }
    free(norm);
    free(best);
    return nb;
}

static bool is_neighbour(const int *nb, int k, int i, int j) {
    for (int t = 0; t < k; t++)
        if (nb[(size_t)i * k + t] == j)
            return true;
    return false;
}

/* A random position of the class of position i (same = true) or of another class, excluding
 * i itself and, when avoid_nb, i's neighbours. */
static int pick_partner(cg__rng *r, const cg_images *im, const int *idx, int n, int i, bool same,
                        const int *nb, int k, bool avoid_nb) {
    for (int tries = 0; tries < 100000; tries++) {
        int j = (int)cg__rng_below(r, (uint32_t)n);
        bool same_class = im->labels[idx[j]] == im->labels[idx[i]];
        if (j == i || same_class != same || (avoid_nb && nb && is_neighbour(nb, k, i, j)))
            continue;
        return j;
    }
    return -1;
}

cg_status cg_gen_pairs(const cg_data_config *c, const cg_images *train, const cg_images *test,
                       cg_dataset *out) {
    if (c->n_classes != 2)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "the siamese embedding pairs two classes (4 and 9 in the study), not %d",
                         c->n_classes);
    bool knn = strcmp(c->mining, "knn") == 0;
    if (!knn && strcmp(c->mining, "random") != 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "unknown mining '%s'; use random or knn",
                         c->mining);
    bool mixed = strcmp(c->negatives, "other_or_non_neighbour") == 0;
    if (!mixed && strcmp(c->negatives, "other_class") != 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "unknown negatives '%s'; use other_class or other_or_non_neighbour",
                         c->negatives);
    int ntr, nte;
    int *itr = filter(train, c->classes, 2, &ntr), *ite = filter(test, c->classes, 2, &nte);
    int k = c->k_neighbours > 0 ? c->k_neighbours : 5;
    int *nb = itr && (knn || mixed) ? neighbours(train, itr, ntr, k) : NULL;
    cg_status st = itr && ite && (nb || !(knn || mixed)) ? CG_OK
                                                          : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory");
    if (st == CG_OK && (ntr < k + 2 || nte < 1))
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "classes %d and %d have only %d training and %d test images", c->classes[0],
                       c->classes[1], ntr, nte);
    int np = c->n_train > 0 ? c->n_train : ntr;
    cg__rng r;
    cg__rng_init(&r, c->seed, STREAM_PAIRS);
    cg_split *pairs = st == CG_OK ? cg_dataset_add_split(out, "pairs") : NULL;
    cg_array *x1 = pairs ? cg_split_add(pairs, "x1", CG_F32, cg_shape_make(4, np, 1, 28, 28)) : NULL;
    cg_array *x2 = x1 ? cg_split_add(pairs, "x2", CG_F32, cg_shape_make(4, np, 1, 28, 28)) : NULL;
    cg_array *tg = x2 ? cg_split_add(pairs, "target", CG_F32, cg_shape_make(1, np, 0, 0, 0)) : NULL;
    cg_array *y1 = tg ? cg_split_add(pairs, "y1", CG_I32, cg_shape_make(1, np, 0, 0, 0)) : NULL;
    cg_array *y2 = y1 ? cg_split_add(pairs, "y2", CG_I32, cg_shape_make(1, np, 0, 0, 0)) : NULL;
    cg_array *kind = y2 ? cg_split_add(pairs, "kind", CG_I32, cg_shape_make(1, np, 0, 0, 0)) : NULL;
    cg_array *wt = kind ? cg_split_add(pairs, "weight", CG_F32, cg_shape_make(1, np, 0, 0, 0)) : NULL;
    if (st == CG_OK && !wt)
        st = CG_ERR_OUT_OF_MEMORY;
    for (int p = 0; st == CG_OK && p < np; p++) {
        int i = (int)cg__rng_below(&r, (uint32_t)ntr), j;
        bool positive = (p & 1) == 0; /* alternate: half similar, half not */
        if (positive)
            j = knn ? nb[(size_t)i * k + cg__rng_below(&r, (uint32_t)k)]
                    : pick_partner(&r, train, itr, ntr, i, true, NULL, 0, false);
        else if (mixed && (cg__rng_u32(&r) & 1))
            j = pick_partner(&r, train, itr, ntr, i, true, nb, k, true);
        else
            j = pick_partner(&r, train, itr, ntr, i, false, NULL, 0, false);
        if (j < 0) {
            st = cg__error(CG_ERR_INVALID_ARGUMENT, "cannot find a partner for pair %d", p);
            break;
        }
        digit_float((float *)x1->data + (size_t)p * D28, train->pixels + (size_t)itr[i] * D28, 0);
        digit_float((float *)x2->data + (size_t)p * D28, train->pixels + (size_t)itr[j] * D28, 0);
        ((float *)tg->data)[p] = positive ? 1.0f : 0.0f;
        ((int32_t *)y1->data)[p] = train->labels[itr[i]];
        ((int32_t *)y2->data)[p] = train->labels[itr[j]];
        /* 0 a positive, 1 a negative of the same class (not a neighbour), 2 of the other. */
        int kd = positive ? 0 : train->labels[itr[i]] == train->labels[itr[j]] ? 1 : 2;
        ((int32_t *)kind->data)[p] = kd;
        ((float *)wt->data)[p] = c->pair_weights[kd];
    }
    if (st == CG_OK && c->triplets) {
        cg__rng_init(&r, c->seed, STREAM_TRIPLETS);
        cg_split *t = cg_dataset_add_split(out, "triplets");
        const char *names[3] = {"anchor", "positive", "negative"};
        cg_array *a[3] = {NULL, NULL, NULL};
        for (int q = 0; q < 3 && t; q++)
            if (!(a[q] = cg_split_add(t, names[q], CG_F32, cg_shape_make(4, np, 1, 28, 28))))
                st = CG_ERR_OUT_OF_MEMORY;
        for (int p = 0; st == CG_OK && p < np; p++) {
            int i = (int)cg__rng_below(&r, (uint32_t)ntr);
            int pos = nb ? nb[(size_t)i * k + cg__rng_below(&r, (uint32_t)k)]
                         : pick_partner(&r, train, itr, ntr, i, true, NULL, 0, false);
            int neg = pick_partner(&r, train, itr, ntr, i, false, NULL, 0, false);
            const int who[3] = {i, pos, neg};
            for (int q = 0; q < 3; q++)
                digit_float((float *)a[q]->data + (size_t)p * D28,
                            train->pixels + (size_t)itr[who[q]] * D28, 0);
        }
    }
    int ne = at_most(c->n_test, nte), nt = at_most(c->n_train, ntr);
    if (st == CG_OK)
        st = images_split(out, "train", train, itr, nt, 0);
    if (st == CG_OK)
        st = images_split(out, "test", test, ite, ne, 0);
    for (int s = 0; st == CG_OK && s < c->n_shifts; s++) {
        char name[24];
        snprintf(name, sizeof name, "test_shift_%s%d", c->shifts[s] < 0 ? "m" : "p",
                 abs(c->shifts[s]));
        st = images_split(out, name, test, ite, ne, c->shifts[s]);
    }
    if (st == CG_OK)
        standardise(out, train, itr, ntr);
    free(itr);
    free(ite);
    free(nb);
    return st;
}

/* 2x2 average pool of a 28x28 digit to 14x14, in [0, 1]. */
static void pool14(float *out, const uint8_t *d) {
    for (int y = 0; y < 14; y++)
        for (int x = 0; x < 14; x++) {
            int s = d[(2 * y) * 28 + 2 * x] + d[(2 * y) * 28 + 2 * x + 1] + d[(2 * y + 1) * 28 + 2 * x] +
                    d[(2 * y + 1) * 28 + 2 * x + 1];
            out[y * 14 + x] = (float)s / (4 * 255.0f);
        }
}

static cg_status compare_split(cg_dataset *out, const char *name, const cg_images *im, int n,
                               uint64_t seed, uint32_t stream) {
    cg_split *s = cg_dataset_add_split(out, name);
    cg_array *x = s ? cg_split_add(s, "x", CG_F32, cg_shape_make(4, n, 2, 14, 14)) : NULL;
    cg_array *t = x ? cg_split_add(s, "target", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    cg_array *c = t ? cg_split_add(s, "classes", CG_I32, cg_shape_make(2, n, 2, 0, 0)) : NULL;
    /* Each digit's class alone, for the auxiliary per-digit losses. */
    cg_array *y1 = c ? cg_split_add(s, "y1", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    cg_array *y2 = y1 ? cg_split_add(s, "y2", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    /* As in the study, no image is used twice within a set (until 2n exceeds the images). */
    int *order = y2 ? shuffled(im->n, seed, stream) : NULL;
    if (!order)
        return CG_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++) {
        int a = order[(2 * i) % im->n], b = order[(2 * i + 1) % im->n];
        pool14((float *)x->data + (size_t)i * 2 * 196, im->pixels + (size_t)a * D28);
        pool14((float *)x->data + (size_t)i * 2 * 196 + 196, im->pixels + (size_t)b * D28);
        ((int32_t *)c->data)[2 * i] = im->labels[a];
        ((int32_t *)c->data)[2 * i + 1] = im->labels[b];
        ((int32_t *)y1->data)[i] = im->labels[a];
        ((int32_t *)y2->data)[i] = im->labels[b];
        ((int32_t *)t->data)[i] = im->labels[a] <= im->labels[b];
    }
    free(order);
    return CG_OK;
}

cg_status cg_gen_compare(const cg_data_config *c, const cg_images *train, const cg_images *test,
                         cg_dataset *out) {
    int n = c->n_train > 0 ? c->n_train : 1000, m = c->n_test > 0 ? c->n_test : 1000;
    cg_status st = compare_split(out, "train", train, n, c->seed, 20);
    return st == CG_OK ? compare_split(out, "test", test, m, c->seed, 21) : st;
}

/* ---- dae: classification, open-set, one-class, three rings ---- */

static cg_status classify_split(cg_dataset *out, const char *name, const cg_images *im,
                                const int *known, int n_known, bool only_known, bool flag,
                                int limit) {
    int n = 0;
    for (int i = 0; i < im->n; i++)
        n += !only_known || in_list(known, n_known, im->labels[i]);
    n = at_most(limit, n);
    cg_split *s = cg_dataset_add_split(out, name);
    cg_array *x = s ? cg_split_add(s, "x", CG_F32, cg_shape_make(4, n, 1, 28, 28)) : NULL;
    cg_array *y = x ? cg_split_add(s, "y", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    cg_array *k = y && flag ? cg_split_add(s, "known", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : y;
    if (!k)
        return CG_ERR_OUT_OF_MEMORY;
    for (int i = 0, at = 0; i < im->n && at < n; i++) {
        bool is_known = in_list(known, n_known, im->labels[i]);
        if (only_known && !is_known)
            continue;
        digit_float((float *)x->data + (size_t)at * D28, im->pixels + (size_t)i * D28, 0);
        ((int32_t *)y->data)[at] = im->labels[i];
        if (flag)
            ((int32_t *)k->data)[at] = is_known;
        at++;
    }
    return CG_OK;
}

/* Three rings of thickness 0.1, inner radius 0.6, centred at (-1, 1), (1, 1), (1, -1). */
cg_status cg_gen_rings(const cg_data_config *c, cg_dataset *out) {
    static const float centre[3][2] = {{-1, 1}, {1, 1}, {1, -1}};
    int n = c->n_train > 0 ? c->n_train : 1500, g = c->grid > 1 ? c->grid : 64;
    cg_split *s = cg_dataset_add_split(out, "train");
    cg_array *x = s ? cg_split_add(s, "x", CG_F32, cg_shape_make(2, n, 2, 0, 0)) : NULL;
    cg_array *y = x ? cg_split_add(s, "y", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    cg_split *gs = y ? cg_dataset_add_split(out, "grid") : NULL;
    cg_array *gx = gs ? cg_split_add(gs, "x", CG_F32, cg_shape_make(2, g * g, 2, 0, 0)) : NULL;
    if (!gx)
        return CG_ERR_OUT_OF_MEMORY;
    cg__rng r;
    cg__rng_init(&r, c->seed, STREAM_RINGS);
    for (int i = 0; i < n; i++) {
        int ring = i % 3;
        /* Uniform over the annulus area: r^2 uniform between 0.6^2 and 0.7^2. */
        double rad = sqrt(0.36 + (0.49 - 0.36) * cg__rng_uniform(&r));
        double ang = 6.283185307179586 * cg__rng_uniform(&r);
        ((float *)x->data)[2 * i] = centre[ring][0] + (float)(rad * cos(ang));
        ((float *)x->data)[2 * i + 1] = centre[ring][1] + (float)(rad * sin(ang));
        ((int32_t *)y->data)[i] = ring;
    }
    for (int i = 0; i < g; i++)
        for (int j = 0; j < g; j++) {
            ((float *)gx->data)[2 * (i * g + j)] = -2.0f + 4.0f * (float)j / (float)(g - 1);
            ((float *)gx->data)[2 * (i * g + j) + 1] = 2.0f - 4.0f * (float)i / (float)(g - 1);
        }
    return CG_OK;
}

/* The fooling trials: per trial a fixed random input z (784 numbers uniform in [0, 1)), the
 * generator's input, and its target class; trials * 10 of them, trial t targeting t % 10. */
static cg_status fooling_split(cg_dataset *out, const cg_data_config *c) {
    int n = c->fooling_trials * 10;
    cg_split *s = cg_dataset_add_split(out, "fooling");
    cg_array *z = s ? cg_split_add(s, "z", CG_F32, cg_shape_make(2, n, D28, 0, 0)) : NULL;
    cg_array *t = z ? cg_split_add(s, "target", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : NULL;
    if (!t)
        return CG_ERR_OUT_OF_MEMORY;
    cg__rng r;
    cg__rng_init(&r, c->seed, STREAM_FOOLING);
    for (size_t i = 0; i < (size_t)n * D28; i++)
        ((float *)z->data)[i] = (float)cg__rng_uniform(&r);
    for (int i = 0; i < n; i++)
        ((int32_t *)t->data)[i] = i % 10;
    return CG_OK;
}

cg_status cg_gen_classes(const cg_data_config *c, const cg_images *train, const cg_images *test,
                         cg_dataset *out) {
    static const int all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    if (strcmp(c->task, "classify") == 0) {
        cg_status st = classify_split(out, "train", train, all, 10, false, false, c->n_train);
        if (st == CG_OK)
            st = classify_split(out, "test", test, all, 10, false, false, c->n_test);
        return st == CG_OK && c->fooling_trials > 0 ? fooling_split(out, c) : st;
    }
    bool one = strcmp(c->task, "one_class") == 0;
    if (one || strcmp(c->task, "open_set") == 0) {
        /* open_set with all 10 known is the closed set (openness 0): a sweep's first point */
        int n_known = one ? 1 : c->n_classes;
        if (n_known < 1 || n_known > 10)
            return cg__error(CG_ERR_INVALID_ARGUMENT,
                             "%s needs 1 to 10 known classes, not %d", c->task, n_known);
        cg_status st = classify_split(out, "train", train, c->classes, n_known, true, false,
                                      c->n_train);
        return st == CG_OK ? classify_split(out, "test", test, c->classes, n_known, false, true,
                                            c->n_test)
                           : st;
    }
    return cg__error(CG_ERR_INVALID_ARGUMENT,
                     "unknown dae task '%s'; use classify, open_set, one_class or rings", c->task);
}

/* ---- vae: 32x32 images, known classes and anomalies ---- */

static cg_status vae_split(cg_dataset *out, const char *name, const cg_images *im, const int *idx,
                           int n, const cg_data_config *c, bool labels) {
    cg_split *s = cg_dataset_add_split(out, name);
    cg_array *x = s ? cg_split_add(s, "x", CG_F32, cg_shape_make(4, n, 1, 32, 32)) : NULL;
    cg_array *y = x && labels ? cg_split_add(s, "y", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : x;
    cg_array *a = y && labels ? cg_split_add(s, "anomaly", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : y;
    /* known = 1 - anomaly: a metric's mask for the known-class samples. */
    cg_array *k = a && labels ? cg_split_add(s, "known", CG_I32, cg_shape_make(1, n, 0, 0, 0)) : a;
    if (!k)
        return CG_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++) {
        float *dst = (float *)x->data + (size_t)i * 1024;
        const uint8_t *d = im->pixels + (size_t)idx[i] * D28;
        for (int yy = 0; yy < 28; yy++)
            for (int xx = 0; xx < 28; xx++)
                dst[(yy + 2) * 32 + xx + 2] = d[yy * 28 + xx] / 255.0f;
        if (!labels)
            continue;
        int label = im->labels[idx[i]], known = -1;
        for (int k = 0; k < c->n_classes; k++)
            if (c->classes[k] == label)
                known = k;
        ((int32_t *)y->data)[i] = known;
        ((int32_t *)a->data)[i] = known < 0;
        ((int32_t *)k->data)[i] = known >= 0;
    }
    return CG_OK;
}

cg_status cg_gen_vae(const cg_data_config *c, const cg_images *train, const cg_images *test,
                     cg_dataset *out) {
    if (c->n_classes < 1 || c->n_classes > 9)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "the vae needs 1 to 9 known classes, not %d",
                         c->n_classes);
    int n_known;
    int *known = filter(train, c->classes, c->n_classes, &n_known);
    int *order = known ? shuffled(n_known, c->seed, STREAM_LABELED) : NULL;
    int *lab = malloc((size_t)c->n_classes * (size_t)(c->n_labeled > 0 ? c->n_labeled : 1) * sizeof *lab);
    int *unl = malloc((size_t)(n_known ? n_known : 1) * sizeof *unl);
    int *all = malloc((size_t)(test->n ? test->n : 1) * sizeof *all);
    cg_status st = order && lab && unl && all ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory");
    /* The first n_labeled images of each known class (in shuffled order) are labeled; the rest
     * of the known classes' training images are the unlabeled set. */
    int n_lab = 0, n_unl = 0, per[10] = {0};
    for (int i = 0; st == CG_OK && i < n_known; i++) {
        int src = known[order[i]], label = train->labels[src], k = 0;
        while (c->classes[k] != label)
            k++;
        if (per[k] < c->n_labeled) {
            per[k]++;
            lab[n_lab++] = src;
        } else {
            unl[n_unl++] = src;
        }
    }
    n_unl = at_most(c->n_train, n_unl);
    for (int i = 0; i < test->n && all; i++)
        all[i] = i;
    int half = at_most(c->n_test, test->n / 2);
    if (st == CG_OK)
        st = vae_split(out, "unlabeled", train, unl, n_unl, c, false);
    if (st == CG_OK)
        st = vae_split(out, "labeled", train, lab, n_lab, c, true);
    if (st == CG_OK)
        st = vae_split(out, "test_a", test, all, half, c, true);
    if (st == CG_OK)
        st = vae_split(out, "test_b", test, all + test->n / 2, half, c, true);
    free(known);
    free(order);
    free(lab);
    free(unl);
    free(all);
    return st;
}
