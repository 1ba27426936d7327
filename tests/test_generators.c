/* The generators: counts, label rules, background pool disjointness, the composition rule,
 * nearest-neighbour mining, shifted test sets, the comparison target, open-set and one-class
 * splits, the three rings, the VAE splits, CIFAR-10 backgrounds, bad settings, and determinism
 * (same seed, same bytes; another seed, other samples). Uses the built-in MNIST; needs no
 * device. */
#include <math.h>
#include <unistd.h>

#include "data/data.h"
#include "harness.h"
#include "pipelines/pipeline.h"

static cg_dataset gen(const char *pipeline, const cg_data_config *c) {
    cg_dataset d;
    cg_status st = cg_data_generate(pipeline, c, &d);
    CHECK(st == CG_OK, "%s: %s", pipeline, cg_error_message());
    return d;
}

static cg_array *arr(cg_dataset *d, const char *split, const char *name) {
    cg_split *s = cg_dataset_find(d, split);
    cg_array *a = s ? cg_split_find(s, name) : NULL;
    CHECK(a != NULL, "array %s/%s exists", split, name);
    return a;
}

static int32_t *ints(cg_dataset *d, const char *split, const char *name) {
    cg_array *a = arr(d, split, name);
    return a ? (int32_t *)a->data : NULL;
}

static bool same_bytes(const cg_dataset *a, const cg_dataset *b) {
    if (a->n_splits != b->n_splits)
        return false;
    for (int s = 0; s < a->n_splits; s++) {
        if (a->splits[s].n_arrays != b->splits[s].n_arrays)
            return false;
        for (int k = 0; k < a->splits[s].n_arrays; k++) {
            const cg_array *x = &a->splits[s].arrays[k], *y = &b->splits[s].arrays[k];
            if (!cg_shape_equal(&x->shape, &y->shape) ||
                memcmp(x->data, y->data, cg_shape_numel(&x->shape) * 4) != 0)
                return false;
        }
    }
    return true;
}

static void range01(cg_array *a, const char *what) {
    size_t n = cg_shape_numel(&a->shape), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !(((float *)a->data)[i] >= 0 && ((float *)a->data)[i] <= 1);
    CHECK(bad == 0, "%s: %zu values outside [0, 1]", what, bad);
}

static void test_composite(void) {
    static float dark[3 * 1024], bright[3 * 1024], out[3 * 1024];
    static uint8_t digit[784];
    for (int i = 0; i < 3 * 1024; i++) {
        dark[i] = 0.2f;
        bright[i] = 0.8f;
    }
    digit[0] = 255;   /* (0, 0) of the digit: (2, 2) of the image */
    digit[29] = 128;  /* (1, 1): (3, 3) */
    cg_composite_digit(out, dark, digit);
    CHECK(out[2 * 32 + 2] == 1.0f && out[1024 + 2 * 32 + 2] == 1.0f, "white ink on dark: %g",
          out[2 * 32 + 2]);
    CHECK(fabsf(out[3 * 32 + 3] - (0.2f * (1 - 128 / 255.0f) + 128 / 255.0f)) < 1e-6f,
          "half ink blends: %g", out[3 * 32 + 3]);
    CHECK(out[0] == 0.2f && out[31 * 32 + 31] == 0.2f, "background kept outside the digit");
    cg_composite_digit(out, bright, digit);
    CHECK(out[2 * 32 + 2] == 0.0f, "black ink on bright: %g", out[2 * 32 + 2]);
}

static void test_baseline(void) {
    cg_data_config c;
    CHECK(cg_data_defaults("baseline", &c), "defaults");
    c.n_train = 600;
    c.n_test = 300;
    c.seed = 7;
    cg_dataset d = gen("baseline", &c);
    CHECK(d.n_splits == 3, "three splits");
    cg_array *x = arr(&d, "train", "x");
    CHECK(x && x->shape.d[0] == 600 && x->shape.d[1] == 3 && x->shape.d[2] == 32, "train x");
    CHECK(cg_split_count(cg_dataset_find(&d, "test_ood")) == 300, "test_ood count");
    if (x)
        range01(x, "baseline train x");
    int P = c.pools_per_class, bad = 0;
    int32_t *y = ints(&d, "train", "y"), *bg = ints(&d, "train", "bg");
    for (int i = 0; y && bg && i < 600; i++)
        bad += bg[i] < y[i] * P || bg[i] >= (y[i] + 1) * P;
    CHECK(bad == 0, "train backgrounds come from the class's own pool (%d outside)", bad);
    int32_t *ty = ints(&d, "test_id", "y"), *tb = ints(&d, "test_id", "bg");
    bad = 0;
    for (int i = 0; ty && tb && i < 300; i++)
        bad += tb[i] < ty[i] * P || tb[i] >= (ty[i] + 1) * P;
    CHECK(bad == 0, "in-distribution test uses the same pools (%d outside)", bad);
    int32_t *ob = ints(&d, "test_ood", "bg");
    bad = 0;
    for (int i = 0; ob && i < 300; i++)
        bad += ob[i] < 10 * P || ob[i] >= 10 * P + c.ood_pool;
    CHECK(bad == 0, "OOD test uses only held-out backgrounds (%d outside)", bad);
    bool used[100] = {false};
    for (int i = 0; bg && i < 600; i++)
        used[bg[i]] = true;
    int n_used = 0;
    for (int i = 0; i < 10 * P; i++)
        n_used += used[i];
    CHECK(n_used > 40, "most training backgrounds are used (%d of %d)", n_used, 10 * P);

    cg_dataset again = gen("baseline", &c);
    CHECK(same_bytes(&d, &again), "same seed, same bytes");
    cg_dataset_free(&again);
    c.seed = 8;
    cg_dataset other = gen("baseline", &c);
    CHECK(!same_bytes(&d, &other), "another seed, other samples");
    cg_dataset_free(&other);
    cg_dataset_free(&d);
}

static void test_cifar_backgrounds(void) {
    char dir[] = "/tmp/clgraph-cifar-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
    FILE *f = fopen(path, "wb");
    for (int r = 0; r < 80; r++) {
        fputc(r % 10, f);
        for (int i = 0; i < 3072; i++)
            fputc((r * 7 + i) & 255, f);
    }
    fclose(f);
    cg_data_config c;
    cg_data_defaults("baseline", &c);
    snprintf(c.backgrounds, sizeof c.backgrounds, "cifar10");
    snprintf(c.cifar_path, sizeof c.cifar_path, "%s", dir);
    c.n_train = 50;
    c.n_test = 20;
    c.pools_per_class = 3;
    c.ood_pool = 10;
    cg_dataset d = gen("baseline", &c);
    cg_array *x = arr(&d, "train", "x");
    if (x)
        range01(x, "cifar-background x");
    cg_dataset_free(&d);
    c.pools_per_class = 30;
    cg_status st = cg_data_generate("baseline", &c, &d);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "too few CIFAR images for the pools");
    CHECK_CONTAINS(cg_error_message(), "310 backgrounds wanted but the image set holds only 80");
    remove(path);
    snprintf(c.cifar_path, sizeof c.cifar_path, "%s", dir);
    st = cg_data_generate("baseline", &c, &d);
    CHECK(st == CG_ERR_NOT_FOUND, "no batches");
    CHECK_CONTAINS(cg_error_message(), "no CIFAR-10 batches");
    rmdir(dir);
}

/* The mean cosine similarity of the positive pairs (the even ones) of n pairs. */
static double positive_cosine(cg_dataset *d, int n) {
    float *x1 = (float *)arr(d, "pairs", "x1")->data, *x2 = (float *)arr(d, "pairs", "x2")->data;
    double mean = 0;
    for (int i = 0; i < n; i += 2) {
        double dot = 0, n1 = 0, n2 = 0;
        for (int p = 0; p < 784; p++) {
            dot += x1[i * 784 + p] * x2[i * 784 + p];
            n1 += x1[i * 784 + p] * x1[i * 784 + p];
            n2 += x2[i * 784 + p] * x2[i * 784 + p];
        }
        mean += dot / sqrt(n1 * n2) / (n / 2);
    }
    return mean;
}

static void test_siamese(void) {
    cg_data_config c;
    cg_data_defaults("siamese", &c);
    c.n_train = 400;
    c.n_test = 100;
    c.triplets = true;
    cg_dataset d = gen("siamese", &c);
    float *t = arr(&d, "pairs", "target") ? (float *)arr(&d, "pairs", "target")->data : NULL;
    int32_t *y1 = ints(&d, "pairs", "y1"), *y2 = ints(&d, "pairs", "y2");
    int bad = 0, pos = 0;
    for (int i = 0; t && y1 && y2 && i < 400; i++) {
        pos += t[i] == 1.0f;
        bad += (t[i] == 1.0f) != (y1[i] == y2[i]);
        bad += (y1[i] != 4 && y1[i] != 9) || (y2[i] != 4 && y2[i] != 9);
    }
    CHECK(bad == 0 && pos == 200, "pairs: similar iff same class, only 4s and 9s, half similar "
                                  "(%d bad, %d similar)",
          bad, pos);
    /* Mined positives are near: their cosine similarity beats random same-class partners. */
    double mined = positive_cosine(&d, 400);
    cg_data_config r = c;
    snprintf(r.mining, sizeof r.mining, "random");
    cg_dataset rd = gen("siamese", &r);
    double random_pos = positive_cosine(&rd, 400);
    CHECK(mined > random_pos + 0.1, "kNN positives are closer (cosine %.3f) than random ones "
                                    "(%.3f)",
          mined, random_pos);
    cg_dataset_free(&rd);
    CHECK(cg_split_count(cg_dataset_find(&d, "triplets")) == 400, "triplets");
    /* Shifted test sets: the shifted image is the test image moved 3 pixels right; what comes
     * in is the background (the standardised 0, the smallest value there is). */
    float *tx = (float *)arr(&d, "test", "x")->data, *sx = (float *)arr(&d, "test_shift_p3", "x")->data;
    float *mx = (float *)arr(&d, "test_shift_m6", "x")->data;
    float bg = tx[0];
    for (int i = 0; i < 100 * 784; i++)
        bg = fminf(bg, tx[i]);
    CHECK(bg < -0.3f, "the background is below the mean after standardising (%g)", bg);
    bad = 0;
    for (int i = 0; i < 100; i++)
        for (int yy = 0; yy < 28; yy++)
            for (int xx = 0; xx < 28; xx++) {
                float want = xx >= 3 ? tx[i * 784 + yy * 28 + xx - 3] : bg;
                float want_m = xx + 6 < 28 ? tx[i * 784 + yy * 28 + xx + 6] : bg;
                bad += sx[i * 784 + yy * 28 + xx] != want;
                bad += mx[i * 784 + yy * 28 + xx] != want_m;
            }
    CHECK(bad == 0, "shifted test sets are shifted copies (%d pixels differ)", bad);
    cg_dataset_free(&d);

    snprintf(c.negatives, sizeof c.negatives, "other_or_non_neighbour");
    d = gen("siamese", &c);
    t = (float *)arr(&d, "pairs", "target")->data;
    y1 = ints(&d, "pairs", "y1");
    y2 = ints(&d, "pairs", "y2");
    int same_neg = 0;
    for (int i = 0; i < 400; i++)
        same_neg += t[i] == 0.0f && y1[i] == y2[i];
    CHECK(same_neg > 40 && same_neg < 160, "mixed regime: some negatives share the class (%d)",
          same_neg);
    cg_dataset_free(&d);

    /* Each pair's kind (0 positive, 1 same-class negative, 2 other-class negative) and its
     * weight by kind. */
    c.pair_weights[0] = 1, c.pair_weights[1] = 0.25f, c.pair_weights[2] = 2;
    d = gen("siamese", &c);
    t = (float *)arr(&d, "pairs", "target")->data;
    y1 = ints(&d, "pairs", "y1");
    y2 = ints(&d, "pairs", "y2");
    int32_t *kind = ints(&d, "pairs", "kind");
    float *w = arr(&d, "pairs", "weight") ? (float *)arr(&d, "pairs", "weight")->data : NULL;
    bad = 0;
    int kinds[3] = {0, 0, 0};
    for (int i = 0; kind && w && i < 400; i++) {
        int want = t[i] == 1.0f ? 0 : y1[i] == y2[i] ? 1 : 2;
        bad += kind[i] != want || w[i] != c.pair_weights[want];
        kinds[want]++;
    }
    CHECK(kind && w && bad == 0 && kinds[1] > 0 && kinds[2] > 0,
          "pair kinds and weights (%d bad; %d %d %d)", bad, kinds[0], kinds[1], kinds[2]);
    cg_dataset_free(&d);

    /* Standardised by the training images of the two classes: with every one of them in the
     * train split, its pixels have mean 0 and deviation 1. */
    cg_data_config all;
    cg_data_defaults("siamese", &all);
    all.n_train = 0;
    all.n_test = 10;
    all.n_shifts = 0;
    d = gen("siamese", &all);
    cg_array *tr = arr(&d, "train", "x");
    double sum = 0, sum2 = 0;
    size_t count = tr ? cg_shape_numel(&tr->shape) : 1;
    for (size_t i = 0; tr && i < count; i++) {
        sum += ((float *)tr->data)[i];
        sum2 += (double)((float *)tr->data)[i] * ((float *)tr->data)[i];
    }
    CHECK(tr && fabs(sum / count) < 1e-4 && fabs(sum2 / count - 1) < 1e-3,
          "standardised training images: mean %g, variance %g", sum / count, sum2 / count);
    cg_dataset_free(&d);

    cg_data_config cmp;
    cg_data_defaults("siamese", &cmp);
    snprintf(cmp.task, sizeof cmp.task, "compare");
    d = gen("siamese", &cmp);
    cg_array *x = arr(&d, "train", "x");
    CHECK(x && x->shape.d[0] == 1000 && x->shape.d[1] == 2 && x->shape.d[2] == 14, "compare x");
    if (x)
        range01(x, "compare x");
    int32_t *tg = ints(&d, "test", "target"), *cl = ints(&d, "test", "classes");
    int32_t *first = ints(&d, "test", "y1"), *second = ints(&d, "test", "y2");
    CHECK(first && second, "compare has y1 and y2");
    bad = 0;
    int ones = 0;
    for (int i = 0; tg && cl && first && second && i < 1000; i++) {
        bad += tg[i] != (cl[2 * i] <= cl[2 * i + 1]);
        bad += first[i] != cl[2 * i] || second[i] != cl[2 * i + 1];
        ones += tg[i];
    }
    CHECK(bad == 0 && ones > 450 && ones < 650, "target = first <= second (%d bad, %d ones)", bad,
          ones);
    /* No image twice within a set: the 2000 test images (all of the built-in test digits) are
     * 2000 different ones. */
    cg_array *cx = arr(&d, "test", "x");
    uint64_t *h = calloc(2000, sizeof *h);
    for (int i = 0; cx && h && i < 2000; i++) {
        const unsigned char *p = (const unsigned char *)((float *)cx->data + (size_t)i * 196);
        h[i] = 1469598103934665603ull;
        for (size_t k = 0; k < 196 * sizeof(float); k++)
            h[i] = (h[i] ^ p[k]) * 1099511628211ull;
    }
    int repeated = 0;
    for (int i = 0; h && i < 2000; i++)
        for (int j = 0; j < i; j++)
            repeated += h[i] == h[j];
    CHECK(repeated < 5, "images repeat within the test set %d times (a few MNIST digits are "
                        "exact duplicates)", repeated);
    free(h);
    cg_dataset_free(&d);
}

static void test_dae(void) {
    cg_data_config c;
    cg_data_defaults("dae", &c);
    cg_dataset d = gen("dae", &c);
    CHECK(cg_split_count(cg_dataset_find(&d, "train")) == 8000 &&
              cg_split_count(cg_dataset_find(&d, "test")) == 2000,
          "classify uses every image");
    cg_dataset_free(&d);
    snprintf(c.task, sizeof c.task, "open_set");
    d = gen("dae", &c);
    int32_t *y = ints(&d, "train", "y");
    int n = cg_split_count(cg_dataset_find(&d, "train")), bad = 0;
    for (int i = 0; y && i < n; i++)
        bad += y[i] >= 6;
    CHECK(bad == 0 && n > 4000, "open set trains on classes 0-5 only (%d of %d bad)", bad, n);
    int32_t *ty = ints(&d, "test", "y"), *known = ints(&d, "test", "known");
    int m = cg_split_count(cg_dataset_find(&d, "test")), unknown = 0;
    bad = 0;
    for (int i = 0; ty && known && i < m; i++) {
        bad += known[i] != (ty[i] < 6);
        unknown += !known[i];
    }
    CHECK(bad == 0 && m == 2000 && unknown > 600, "open-set test: all classes, flagged (%d)",
          unknown);
    cg_dataset_free(&d);
    snprintf(c.task, sizeof c.task, "one_class");
    c.classes[0] = 3;
    d = gen("dae", &c);
    y = ints(&d, "train", "y");
    n = cg_split_count(cg_dataset_find(&d, "train"));
    bad = 0;
    for (int i = 0; y && i < n; i++)
        bad += y[i] != 3;
    CHECK(bad == 0 && n > 500, "one-class trains on 3s only (%d images)", n);
    cg_dataset_free(&d);
    snprintf(c.task, sizeof c.task, "rings");
    c.grid = 5;
    d = gen("dae", &c);
    float *x = (float *)arr(&d, "train", "x")->data;
    y = ints(&d, "train", "y");
    static const float centre[3][2] = {{-1, 1}, {1, 1}, {1, -1}};
    bad = 0;
    for (int i = 0; i < 1500; i++) {
        float dx = x[2 * i] - centre[y[i]][0], dy = x[2 * i + 1] - centre[y[i]][1];
        float r = sqrtf(dx * dx + dy * dy);
        bad += r < 0.6f - 1e-5f || r > 0.7f + 1e-5f;
    }
    CHECK(bad == 0, "ring points lie between radius 0.6 and 0.7 of their centre (%d outside)", bad);
    float *g = (float *)arr(&d, "grid", "x")->data;
    CHECK(g[0] == -2 && g[1] == 2 && g[2 * 24] == 2 && g[2 * 24 + 1] == -2, "grid spans [-2, 2]^2");
    cg_dataset_free(&d);
    snprintf(c.task, sizeof c.task, "segment");
    cg_status st = cg_data_generate("dae", &c, &d);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "unknown task");
    CHECK_CONTAINS(cg_error_message(), "unknown dae task 'segment'");
}

static void test_vae(void) {
    cg_data_config c;
    cg_data_defaults("vae", &c);
    cg_dataset d = gen("vae", &c);
    cg_array *u = arr(&d, "unlabeled", "x");
    CHECK(u && u->shape.d[1] == 1 && u->shape.d[2] == 32 && u->shape.d[3] == 32, "32x32");
    CHECK(cg_split_find(cg_dataset_find(&d, "unlabeled"), "y") == NULL, "unlabeled has no y");
    int32_t *ly = ints(&d, "labeled", "y");
    int per[5] = {0}, bad = 0;
    int nl = cg_split_count(cg_dataset_find(&d, "labeled"));
    for (int i = 0; ly && i < nl; i++) {
        if (ly[i] < 0 || ly[i] > 4)
            bad++;
        else
            per[ly[i]]++;
    }
    CHECK(nl == 100 && bad == 0 && per[0] == 20 && per[4] == 20, "20 labeled per known class");
    int32_t *ay = ints(&d, "test_a", "y"), *an = ints(&d, "test_a", "anomaly");
    int32_t *ak = ints(&d, "test_a", "known");
    int m = cg_split_count(cg_dataset_find(&d, "test_a")), anomalies = 0;
    bad = 0;
    for (int i = 0; ay && an && ak && i < m; i++) {
        bad += an[i] != (ay[i] < 0) || ak[i] != 1 - an[i];
        anomalies += an[i];
    }
    CHECK(bad == 0 && anomalies > m / 4 && anomalies < 3 * m / 4,
          "test_a flags anomalies (%d of %d)", anomalies, m);
    CHECK(u && cg_split_count(cg_dataset_find(&d, "unlabeled")) > 3000, "unlabeled is the largest");
    float *ux = u ? (float *)u->data : NULL;
    float border = 0;
    for (int i = 0; ux && i < 32; i++)
        border += ux[i] + ux[31 * 32 + i];
    CHECK(border == 0, "the 2-pixel padding is empty");
    cg_dataset_free(&d);
}

/* Same seed, same bytes; another seed, other samples: for every generator that samples. */
static void test_determinism(void) {
    static const struct {
        const char *pipeline, *task;
    } cases[] = {{"similarity", ""}, {"siamese", "embedding"}, {"siamese", "compare"},
                 {"dae", "rings"},   {"vae", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cg_data_config c;
        cg_data_defaults(cases[i].pipeline, &c);
        if (cases[i].task[0])
            snprintf(c.task, sizeof c.task, "%s", cases[i].task);
        c.n_train = 200;
        c.n_test = 50;
        c.seed = 11;
        cg_dataset a = gen(cases[i].pipeline, &c), b = gen(cases[i].pipeline, &c);
        c.seed = 12;
        cg_dataset other = gen(cases[i].pipeline, &c);
        CHECK(same_bytes(&a, &b), "%s %s: same seed, same bytes", cases[i].pipeline,
              cases[i].task);
        CHECK(!same_bytes(&a, &other), "%s %s: another seed, other samples", cases[i].pipeline,
              cases[i].task);
        cg_dataset_free(&a);
        cg_dataset_free(&b);
        cg_dataset_free(&other);
    }
}

int main(void) {
    unsetenv("CLGRAPH_DATA");
    test_determinism();
    test_composite();
    test_baseline();
    test_cifar_backgrounds();
    test_siamese();
    test_dae();
    test_vae();
    cg_data_config c;
    CHECK(!cg_data_defaults("resnet", &c), "no defaults for an unknown pipeline");
    cg_data_defaults("baseline", &c);
    cg_dataset d;
    cg_status st = cg_data_generate("resnet", &c, &d);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "unknown pipeline");
    CHECK_CONTAINS(cg_error_message(), "unknown pipeline 'resnet'");
    snprintf(c.backgrounds, sizeof c.backgrounds, "imagenet");
    st = cg_data_generate("baseline", &c, &d);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "unknown background source");
    CHECK_CONTAINS(cg_error_message(), "unknown background source 'imagenet'");
    return cgt_finish("test_generators");
}
