/* The graph API the studies need, each against finite differences or a host computation
 * (the dAE confidence against an exact Jacobian from backward passes):
 * gradients with respect to an input, a group trained in front of a frozen one, backward from any
 * value with a seed, the per-node forward state that backward reuses (mode and random draws),
 * metrics restricted to a mask, and a training loop that stops on a device-side condition. */
#include <math.h>

#include "graph/feeder.h"
#include "graph/graph.h"
#include "harness.h"

enum { B = 8, F = 5, K = 3 };

static cg_context *ctx;

static const cg_op_def *op(const char *name) {
    return cg_op_find(name);
}

static void fill(float *x, int n, uint64_t seed, double scale) {
    cg__rng r;
    cg__rng_init(&r, seed, 3);
    for (int i = 0; i < n; i++)
        x[i] = (float)(scale * cg__rng_normal(&r));
}

/* x (requires a gradient) -> gen: linear F->F, tanh (group 1) -> net: linear F->K (group 0,
 * frozen) -> cross-entropy with y. */
typedef struct model {
    cg_graph *g;
    int x, y, logits, loss;
} model;

static model build_front(void) {
    model m;
    CHECK_OK(cg_graph_create(ctx, B, &m.g));
    cg_shape xs = {1, {F}}, ys = {0, {0}};
    CHECK_OK(cg_graph_input(m.g, "x", &xs, CG_F32, &m.x));
    CHECK_OK(cg_graph_input(m.g, "y", &ys, CG_I32, &m.y));
    cg_op_attrs gen = {.features = F, .bias = true}, net = {.features = K, .bias = true}, none = {0};
    int h, a, in2[2];
    CHECK_OK(cg_graph_layer(m.g, "gen.fc", op("linear"), &gen, &m.x, 1, 1, &h, NULL, NULL));
    CHECK_OK(cg_graph_layer(m.g, "gen.act", op("tanh"), &none, &h, 1, 1, &a, NULL, NULL));
    CHECK_OK(cg_graph_layer(m.g, "net.fc", op("linear"), &net, &a, 1, 0, &m.logits, NULL, NULL));
    in2[0] = m.logits;
    in2[1] = m.y;
    CHECK_OK(cg_graph_node(m.g, "ce", op("cross_entropy"), &none, in2, 2, NULL, 0, &m.loss));
    CHECK_OK(cg_graph_loss(m.g, m.loss, 1.0f, CG_REDUCE_MEAN, NULL));
    CHECK_OK(cg_graph_require_grad(m.g, m.x));
    CHECK_OK(cg_graph_set_lr_scale(m.g, 0, 0.0f));
    CHECK_OK(cg_graph_compile(m.g, 11));
    float x[B * F];
    int y[B];
    fill(x, B * F, 1, 1.0);
    for (int i = 0; i < B; i++)
        y[i] = i % K;
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m.g, m.x), x, sizeof x));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m.g, m.y), y, sizeof y));
    return m;
}

/* sum(seed * v) after a forward, on the host (seed NULL: the loss total). */
static double objective(cg_graph *g, int v, const float *seed) {
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_graph_forward(g, false));
    if (!seed) {
        float acc[1];
        CHECK_OK(cg_graph_read_accumulator(g, acc, 1));
        return acc[0];
    }
    cg_shape s = cg_graph_value_shape(g, v);
    size_t n = cg_shape_numel(&s);
    float *h = malloc(n * sizeof *h);
    CHECK_OK(cg_graph_read_value(g, v, h));
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)seed[i] * h[i];
    free(h);
    return sum;
}

/* The gradient of the objective with respect to the input x, by central differences. */
static int compare_input_grad(model *m, const float *grad, int v, const float *seed,
                              const char *what) {
    float x[B * F];
    CHECK_OK(cg_graph_read_value(m->g, m->x, x));
    int bad = 0;
    for (int i = 0; i < B * F; i++) {
        float keep = x[i], h = 1e-2f;
        x[i] = keep + h;
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m->g, m->x), x, sizeof x));
        double up = objective(m->g, v, seed);
        x[i] = keep - h;
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m->g, m->x), x, sizeof x));
        double down = objective(m->g, v, seed);
        x[i] = keep;
        double fd = (up - down) / (2 * h);
        if (fabs(fd - grad[i]) > 1e-3 + 2e-2 * fabs(fd) && bad++ < 4)
            fprintf(stderr, "  %s: dx[%d] backward %g, finite difference %g\n", what, i, grad[i],
                    fd);
    }
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m->g, m->x), x, sizeof x));
    return bad;
}

static void test_input_and_front_group(void) {
    model m = build_front();
    float grad[B * F];
    CHECK_OK(cg_graph_forward(m.g, false));
    CHECK_OK(cg_graph_backward(m.g));
    CHECK_OK(cg_graph_read_grad(m.g, m.x, grad));
    int bad = compare_input_grad(&m, grad, -1, NULL, "loss");
    CHECK(bad == 0, "the input gradient of the loss matches finite differences (%d off)", bad);
    /* The trained group in front gets gradients through the frozen one; only it moves. */
    size_t n = cg_graph_param_buffer_floats(m.g);
    float *before = malloc(n * 4), *after = malloc(n * 4), *pg = malloc(n * 4);
    CHECK_OK(cg_graph_read_params(m.g, before, false));
    CHECK_OK(cg_graph_forward(m.g, false));
    CHECK_OK(cg_graph_backward(m.g));
    CHECK_OK(cg_graph_read_params(m.g, pg, true));
    cg_param_info gw = cg_graph_param_at(m.g, 0);
    float keep = before[gw.offset + 2], h = 1e-2f;
    before[gw.offset + 2] = keep + h;
    CHECK_OK(cg_graph_write_params(m.g, before));
    double up = objective(m.g, -1, NULL);
    before[gw.offset + 2] = keep - h;
    CHECK_OK(cg_graph_write_params(m.g, before));
    double down = objective(m.g, -1, NULL);
    before[gw.offset + 2] = keep;
    CHECK_OK(cg_graph_write_params(m.g, before));
    double fd = (up - down) / (2 * h);
    CHECK(fabs(fd - pg[gw.offset + 2]) < 1e-3 + 2e-2 * fabs(fd),
          "the front group's gradient through the frozen group: %g vs %g", pg[gw.offset + 2], fd);
    cg_optim_config sgd = cg_optim_defaults(CG_OPTIM_SGD);
    sgd.lr = 0.5f;
    CHECK_OK(cg_graph_forward(m.g, false));
    CHECK_OK(cg_graph_backward(m.g));
    CHECK_OK(cg_graph_step(m.g, &sgd));
    CHECK_OK(cg_graph_read_params(m.g, after, false));
    int moved[2] = {0, 0};
    for (int s = 0; s < cg_graph_param_count(m.g); s++) {
        cg_param_info p = cg_graph_param_at(m.g, s);
        for (size_t k = 0; k < cg_shape_numel(&p.shape); k++)
            moved[p.group] += after[p.offset + k] != before[p.offset + k];
    }
    CHECK(moved[0] == 0 && moved[1] > 0, "the frozen group stays (%d moved), the front group "
                                         "trains (%d moved)",
          moved[0], moved[1]);
    /* Backward from the logits with a seed: d(sum seed * logits)/dx. */
    float seed[B * K];
    fill(seed, B * K, 5, 1.0);
    CHECK_OK(cg_graph_forward(m.g, false));
    CHECK_OK(cg_graph_backward_from(m.g, m.logits, seed));
    CHECK_OK(cg_graph_read_grad(m.g, m.x, grad));
    bad = compare_input_grad(&m, grad, m.logits, seed, "seeded");
    CHECK(bad == 0, "backward from the logits with a seed matches finite differences (%d off)",
          bad);
    CHECK(cg_graph_backward_from(m.g, m.x, NULL) == CG_ERR_INVALID_ARGUMENT,
          "an input is not a value to start backward from");
    free(before);
    free(after);
    free(pg);
    cg_graph_destroy(m.g);
    printf("ok   input gradients, a group in front of a frozen one, backward from a value\n");
}

/* x -> linear -> dropout 0.5 -> linear -> mse: backward differentiates the latest forward. */
static void test_saved_forward_state(void) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {F}}, ts = {1, {2}};
    int x, t, h, d, o, loss, in2[2];
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &x));
    CHECK_OK(cg_graph_input(g, "t", &ts, CG_F32, &t));
    cg_op_attrs l1 = {.features = 16, .bias = true}, l2 = {.features = 2, .bias = true};
    cg_op_attrs drop = {.alpha = 0.5f}, none = {0};
    CHECK_OK(cg_graph_layer(g, "fc1", op("linear"), &l1, &x, 1, 0, &h, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "drop", op("dropout"), &drop, &h, 1, 0, &d, NULL, NULL));
    CHECK_OK(cg_graph_layer(g, "fc2", op("linear"), &l2, &d, 1, 0, &o, NULL, NULL));
    in2[0] = o;
    in2[1] = t;
    CHECK_OK(cg_graph_node(g, "mse", op("mse"), &none, in2, 2, NULL, 0, &loss));
    CHECK_OK(cg_graph_loss(g, loss, 1.0f, CG_REDUCE_MEAN, NULL));
    CHECK_OK(cg_graph_compile(g, 3));
    float xv[B * F], tv[B * 2];
    fill(xv, B * F, 7, 1.0);
    fill(tv, B * 2, 8, 1.0);
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, x), xv, sizeof xv));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, t), tv, sizeof tv));
    size_t n = cg_graph_param_buffer_floats(g);
    float *g_eval = malloc(n * 4), *g_mixed = malloc(n * 4), *g_train = malloc(n * 4),
          *g_again = malloc(n * 4), *p = malloc(n * 4);
    CHECK_OK(cg_graph_forward(g, false));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, g_eval, true));
    /* A training forward, then an evaluation forward: backward follows the evaluation. */
    CHECK_OK(cg_graph_forward(g, true));
    CHECK_OK(cg_graph_forward(g, false));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, g_mixed, true));
    CHECK(memcmp(g_eval, g_mixed, n * 4) == 0,
          "backward after an evaluation forward differentiates that forward");
    /* A training forward's draws are reused by every backward that follows it. */
    CHECK_OK(cg_graph_forward(g, true));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, g_train, true));
    CHECK_OK(cg_graph_backward(g));
    CHECK_OK(cg_graph_read_params(g, g_again, true));
    CHECK(memcmp(g_train, g_again, n * 4) == 0, "two backwards of one forward agree");
    CHECK(memcmp(g_train, g_eval, n * 4) != 0, "dropout changes the training gradient");
    /* Evaluation mode against finite differences of the evaluation loss. */
    CHECK_OK(cg_graph_read_params(g, p, false));
    int bad = 0;
    for (int s = 0; s < cg_graph_param_count(g); s++) {
        cg_param_info info = cg_graph_param_at(g, s);
        size_t count = cg_shape_numel(&info.shape);
        for (size_t k = 0; k < count; k += count > 5 ? count / 5 : 1) {
            size_t i = info.offset + k;
            float keep = p[i], hh = 1e-2f;
            p[i] = keep + hh;
            CHECK_OK(cg_graph_write_params(g, p));
            double up = objective(g, -1, NULL);
            p[i] = keep - hh;
            CHECK_OK(cg_graph_write_params(g, p));
            double down = objective(g, -1, NULL);
            p[i] = keep;
            double fd = (up - down) / (2 * hh);
            bad += fabs(fd - g_eval[i]) > 1e-3 + 2e-2 * fabs(fd);
        }
    }
    CHECK_OK(cg_graph_write_params(g, p));
    CHECK(bad == 0, "evaluation-mode gradients match finite differences (%d off)", bad);
    free(g_eval);
    free(g_mixed);
    free(g_train);
    free(g_again);
    free(p);
    cg_graph_destroy(g);
    printf("ok   backward reuses each node's latest forward mode and draws\n");
}

/* Accuracy over the samples whose mask is set, against the host. */
static void test_masked_metric(void) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {K}}, ys = {0, {0}};
    int x, y, mask, correct, slot, count_slot, in2[2];
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &x));
    CHECK_OK(cg_graph_input(g, "y", &ys, CG_I32, &y));
    CHECK_OK(cg_graph_input(g, "known", &ys, CG_I32, &mask));
    in2[0] = x;
    in2[1] = y;
    cg_op_attrs none = {0};
    CHECK_OK(cg_graph_node(g, "acc", op("accuracy"), &none, in2, 2, NULL, 0, &correct));
    CHECK_OK(cg_graph_metric_masked(g, correct, mask, &slot, &count_slot));
    CHECK(cg_graph_metric_masked(g, correct, x, NULL, NULL) != CG_OK, "a metric is marked once");
    CHECK_OK(cg_graph_set_inference(g)); /* forward only: no gradient buffers */
    CHECK_OK(cg_graph_compile(g, 1));
    float xv[B * K];
    int yv[B], mv[B], want = 0, count = 0;
    fill(xv, B * K, 9, 1.0);
    for (int i = 0; i < B; i++) {
        yv[i] = i % 3 == 2 ? -1 : i % K; /* -1: an anomaly, masked out */
        mv[i] = yv[i] >= 0;
        int best = 0;
        for (int k = 1; k < K; k++)
            best = xv[i * K + k] > xv[i * K + best] ? k : best;
        want += mv[i] && best == yv[i];
        count += mv[i];
    }
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, x), xv, sizeof xv));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, y), yv, sizeof yv));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, mask), mv, sizeof mv));
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_graph_forward(g, false));
    cg_graph_set_valid_rows(g, B - 1); /* a partial batch: the last row does not count */
    CHECK_OK(cg_graph_forward(g, false));
    cg_graph_set_valid_rows(g, 0);
    float acc[CG_GRAPH_ACC_SLOTS];
    CHECK_OK(cg_graph_read_accumulator(g, acc, CG_GRAPH_ACC_SLOTS));
    int last = mv[B - 1], last_ok = 0;
    {
        int best = 0;
        for (int k = 1; k < K; k++)
            best = xv[(B - 1) * K + k] > xv[(B - 1) * K + best] ? k : best;
        last_ok = mv[B - 1] && best == yv[B - 1];
    }
    CHECK(acc[slot] == 2 * want - last_ok && acc[count_slot] == 2 * count - last,
          "masked sum %g of %g, want %d of %d", acc[slot], acc[count_slot], 2 * want - last_ok,
          2 * count - last);
    CHECK(cg_graph_backward(g) == CG_ERR_INVALID_ARGUMENT && !cg_graph_grad_mem(g, x),
          "a forward-only graph has no gradients");
    cg_graph_destroy(g);
    printf("ok   metrics over a mask\n");
}

/* Trains w in y = w * x towards 10 x (mse, SGD) and notes when each y first reaches 5: the
 * steps agree with the same trajectory on the host. */
static void test_until(void) {
    static const float xs_[4] = {1, 2, 3, 4};
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, 4, &g));
    cg_shape one = {1, {1}};
    int x, t, y, loss, in2[2];
    CHECK_OK(cg_graph_input(g, "x", &one, CG_F32, &x));
    CHECK_OK(cg_graph_input(g, "t", &one, CG_F32, &t));
    cg_op_attrs lin = {.features = 1, .bias = false}, none = {0};
    CHECK_OK(cg_graph_layer(g, "w", op("linear"), &lin, &x, 1, 0, &y, NULL, NULL));
    in2[0] = y;
    in2[1] = t;
    CHECK_OK(cg_graph_node(g, "mse", op("mse"), &none, in2, 2, NULL, 0, &loss));
    CHECK_OK(cg_graph_loss(g, loss, 1.0f, CG_REDUCE_MEAN, NULL));
    CHECK_OK(cg_graph_compile(g, 1));
    float tv[4], w0 = 0.1f;
    for (int i = 0; i < 4; i++)
        tv[i] = 10 * xs_[i];
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, x), xs_, sizeof xs_));
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, t), tv, sizeof tv));
    /* The flat buffer holds the one weight and its padding. */
    float *flat = calloc(cg_graph_param_buffer_floats(g), sizeof *flat);
    flat[0] = w0;
    CHECK_OK(cg_graph_write_params(g, flat));
    cg_optim_config sgd = cg_optim_defaults(CG_OPTIM_SGD);
    sgd.lr = 0.002f;
    /* The host trajectory: dL/dw = (2/4) sum (w x - 10 x) x. */
    int want[4] = {-1, -1, -1, -1};
    double w = w0;
    for (int s = 0; s <= 400; s++) {
        for (int i = 0; i < 4; i++)
            if (want[i] < 0 && w * xs_[i] >= 5)
                want[i] = s;
        double grad = 0;
        for (int i = 0; i < 4; i++)
            grad += 0.5 * (w * xs_[i] - tv[i]) * xs_[i];
        w -= sgd.lr * grad;
    }
    int first[4], steps;
    cg_until u = {.condition = y, .threshold = 5, .check_every = 7, .max_steps = 400,
                  .training = true, .optimizer = &sgd};
    CHECK_OK(cg_graph_train_until(g, &u, first, &steps));
    for (int i = 0; i < 4; i++)
        CHECK(first[i] == want[i], "sample %d: condition first held after %d updates, host %d",
              i, first[i], want[i]);
    CHECK(steps >= want[0] && steps < want[0] + 7 && (steps + 1) % 7 == 0,
          "the loop stops at the first check after the last sample (%d updates; last at %d)",
          steps, want[0]);
    /* A condition never met: the loop runs max_steps and says -1. */
    CHECK_OK(cg_graph_write_params(g, flat));
    free(flat);
    u.threshold = 1e9f;
    u.max_steps = 20;
    CHECK_OK(cg_graph_train_until(g, &u, first, &steps));
    CHECK(steps == 20 && first[0] == -1 && first[3] == -1, "never met: %d steps, first %d",
          steps, first[0]);
    u.check_every = 0;
    CHECK(cg_graph_train_until(g, &u, first, &steps) == CG_ERR_INVALID_ARGUMENT,
          "check_every 0 is refused");
    cg_graph_destroy(g);
    printf("ok   a training loop that stops per sample (first steps %d %d %d %d)\n", want[0],
           want[1], want[2], want[3]);
}

/* A split of 21 samples read through a batch-8 graph: every sample's row, in order, equal to
 * the host's linear map; the sum metric counts each sample once. */
static void test_collect(void) {
    enum { N = 21 };
    cg_dataset d;
    memset(&d, 0, sizeof d);
    cg_split *s = cg_dataset_add_split(&d, "test");
    cg_array *xa = cg_split_add(s, "x", CG_F32, cg_shape_make(2, N, F, 0, 0));
    cg_array *other = cg_split_add(s, "unused", CG_I32, cg_shape_make(1, N, 0, 0, 0));
    CHECK(xa && other, "arrays");
    fill(xa->data, N * F, 21, 1.0);
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {F}};
    int x, z, mse, in2[2];
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &x));
    cg_op_attrs lin = {.features = 2, .bias = true}, none = {0};
    CHECK_OK(cg_graph_layer(g, "fc", op("linear"), &lin, &x, 1, 0, &z, NULL, NULL));
    in2[0] = z;
    in2[1] = z;
    CHECK_OK(cg_graph_node(g, "zero", op("mse"), &none, in2, 2, NULL, 0, &mse));
    int slot;
    CHECK_OK(cg_graph_metric(g, z, &slot));
    CHECK_OK(cg_graph_compile(g, 2));
    cg_feeder *f;
    CHECK_OK(cg_feeder_create(ctx, s, &f));
    CHECK_OK(cg_feeder_bind(f, g));
    float *rows[1] = {NULL};
    CHECK_OK(cg_graph_reset_accumulator(g));
    CHECK_OK(cg_feeder_collect(f, &z, 1, rows));
    float p[64], acc[CG_GRAPH_ACC_SLOTS];
    CHECK_OK(cg_graph_read_params(g, p, false));
    CHECK_OK(cg_graph_read_accumulator(g, acc, CG_GRAPH_ACC_SLOTS));
    cg_param_info w = cg_graph_param_at(g, 0), b = cg_graph_param_at(g, 1);
    int bad = 0;
    double total = 0;
    for (int i = 0; rows[0] && i < N; i++)
        for (int o = 0; o < 2; o++) {
            double want = p[b.offset + o];
            for (int k = 0; k < F; k++)
                want += (double)p[w.offset + o * F + k] * ((float *)xa->data)[i * F + k];
            total += want;
            bad += fabs(want - rows[0][i * 2 + o]) > 1e-5 * (1 + fabs(want));
        }
    CHECK(bad == 0, "collected rows equal the host's (%d differ)", bad);
    CHECK(fabs(acc[slot] - total) < 1e-4 * (1 + fabs(total)),
          "the metric summed every sample once: %g, want %g", acc[slot], total);
    free(rows[0]);
    /* A graph input the split lacks is named. */
    cg_graph *g2;
    CHECK_OK(cg_graph_create(ctx, B, &g2));
    int q, r;
    CHECK_OK(cg_graph_input(g2, "x", &xs, CG_F32, &q));
    cg_shape bad_shape = {1, {F + 1}};
    CHECK_OK(cg_graph_input(g2, "unused", &bad_shape, CG_F32, &r));
    in2[0] = q;
    CHECK_OK(cg_graph_layer(g2, "fc", op("linear"), &lin, &r, 1, 0, &z, NULL, NULL));
    CHECK_OK(cg_graph_compile(g2, 2));
    cg_status st = cg_feeder_bind(f, g2);
    CHECK(st == CG_ERR_SHAPE, "a mis-shaped array is refused");
    CHECK_CONTAINS(cg_error_message(), "array 'unused' is (21)");
    cg_feeder_destroy(f);
    cg_graph_destroy(g);
    cg_graph_destroy(g2);
    cg_dataset_free(&d);
    printf("ok   values read over a whole split\n");
}

/* A forward-only graph runs only what the named values need: of two branches a = 2x and
 * b = 3x, reading a leaves b as it was; every node runs again after cg_graph_run_all. A
 * training graph refuses (backward needs every node). */
static void test_run_only(void) {
    cg_graph *g;
    CHECK_OK(cg_graph_create(ctx, B, &g));
    cg_shape xs = {1, {K}};
    int x, a, b;
    CHECK_OK(cg_graph_input(g, "x", &xs, CG_F32, &x));
    cg_op_attrs two = {.alpha = 2}, three = {.alpha = 3};
    CHECK_OK(cg_graph_node(g, "a", op("scale"), &two, &x, 1, NULL, 0, &a));
    CHECK_OK(cg_graph_node(g, "b", op("scale"), &three, &x, 1, NULL, 0, &b));
    CHECK(cg_graph_run_only(g, &a, 1) != CG_OK, "a training graph runs every node");
    CHECK_OK(cg_graph_set_inference(g));
    CHECK_OK(cg_graph_compile(g, 1));
    float xv[B * K], av[B * K], bv[B * K], x0;
    fill(xv, B * K, 3, 1.0);
    x0 = xv[0];
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, x), xv, sizeof xv));
    CHECK_OK(cg_graph_forward(g, false));
    for (int i = 0; i < B * K; i++)
        xv[i] += 1.0f;
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g, x), xv, sizeof xv));
    CHECK_OK(cg_graph_run_only(g, &a, 1));
    CHECK_OK(cg_graph_forward(g, false));
    CHECK_OK(cg_graph_read_value(g, a, av));
    CHECK_OK(cg_graph_read_value(g, b, bv));
    CHECK(fabsf(av[0] - 2 * xv[0]) < 1e-5f && fabsf(bv[0] - 3 * x0) < 1e-5f,
          "a is new (%g, want %g), b as it was (%g, want %g)", av[0], 2 * xv[0], bv[0], 3 * x0);
    cg_graph_run_all(g);
    CHECK_OK(cg_graph_forward(g, false));
    CHECK_OK(cg_graph_read_value(g, b, bv));
    CHECK(fabsf(bv[0] - 3 * xv[0]) < 1e-5f, "every node again: b %g, want %g", bv[0], 3 * xv[0]);
    cg_graph_destroy(g);
    printf("ok   forward passes of part of a graph\n");
}

/* The dAE study's confidence: an autoencoder r(x) = sigmoid(W2 tanh(W1 x)) applied to x and, with
 * the same weights, to probed copies of x; the trace of its Jacobian by forward differences in
 * the basis and by Hutchinson's probes, against the exact Jacobian from backward passes (one per
 * output element); dae_confidence against the host formula (its traces lie below D: the branch
 * above D is test_ops' dae_confidence case); and the identity autoencoder, whose trace is D and
 * confidence 1 exactly. */
enum { HK = 400 };
typedef struct ae_model {
    cg_graph *g;
    int x, r, tr_basis, tr_hutch, conf, tr_id, conf_id;
} ae_model;

static int apply_ae(cg_graph *g, const char *tag, int in, const int *p) {
    cg_op_attrs enc = {.features = 6, .bias = true}, dec = {.features = F, .bias = true};
    cg_op_attrs none = {0};
    char name[32];
    int h, a, o, r;
    snprintf(name, sizeof name, "%s.enc", tag);
    CHECK_OK(cg_graph_node(g, name, op("linear"), &enc, &in, 1, p, 2, &h));
    snprintf(name, sizeof name, "%s.tanh", tag);
    CHECK_OK(cg_graph_node(g, name, op("tanh"), &none, &h, 1, NULL, 0, &a));
    snprintf(name, sizeof name, "%s.dec", tag);
    CHECK_OK(cg_graph_node(g, name, op("linear"), &dec, &a, 1, p + 2, 2, &o));
    snprintf(name, sizeof name, "%s.sig", tag);
    CHECK_OK(cg_graph_node(g, name, op("sigmoid"), &none, &o, 1, NULL, 0, &r));
    return r;
}

static ae_model build_ae(void) {
    ae_model m;
    CHECK_OK(cg_graph_create(ctx, B, &m.g));
    cg_shape xs = {1, {F}};
    CHECK_OK(cg_graph_input(m.g, "x", &xs, CG_F32, &m.x));
    int p[4];
    cg_shape w1 = {2, {6, F}}, b1 = {1, {6}}, w2 = {2, {F, 6}}, b2 = {1, {F}};
    CHECK_OK(cg_graph_param(m.g, "enc.weight", &w1, CG_INIT_KAIMING_UNIFORM, F, 0, 0, &p[0]));
    CHECK_OK(cg_graph_param(m.g, "enc.bias", &b1, CG_INIT_BIAS_UNIFORM, F, 0, 0, &p[1]));
    CHECK_OK(cg_graph_param(m.g, "dec.weight", &w2, CG_INIT_KAIMING_UNIFORM, 6, 0, 0, &p[2]));
    CHECK_OK(cg_graph_param(m.g, "dec.bias", &b2, CG_INIT_BIAS_UNIFORM, 6, 0, 0, &p[3]));
    m.r = apply_ae(m.g, "clean", m.x, p);
    cg_op_attrs basis = {.alpha = 1e-3f, .basis = true}, hutch = {.alpha = 1e-3f, .count = HK};
    cg_op_attrs none = {0}, conf = {.alpha = 20.0f, .beta = 10.0f};
    int xb, xh;
    CHECK_OK(cg_graph_node(m.g, "xb", op("probe"), &basis, &m.x, 1, NULL, 0, &xb));
    CHECK_OK(cg_graph_node(m.g, "xh", op("probe"), &hutch, &m.x, 1, NULL, 0, &xh));
    int rb = apply_ae(m.g, "basis", xb, p), rh = apply_ae(m.g, "hutch", xh, p);
    int in[4] = {m.x, xb, m.r, rb};
    CHECK_OK(cg_graph_node(m.g, "tr_basis", op("jacobian_trace"), &none, in, 4, NULL, 0,
                           &m.tr_basis));
    in[1] = xh;
    in[3] = rh;
    CHECK_OK(cg_graph_node(m.g, "tr_hutch", op("jacobian_trace"), &none, in, 4, NULL, 0,
                           &m.tr_hutch));
    int cin[3] = {m.x, m.r, m.tr_basis};
    CHECK_OK(cg_graph_node(m.g, "conf", op("dae_confidence"), &conf, cin, 3, NULL, 0, &m.conf));
    /* The identity: r = x, and the probed copies are their own reconstructions. */
    int id[4] = {m.x, xh, m.x, xh};
    CHECK_OK(cg_graph_node(m.g, "tr_id", op("jacobian_trace"), &none, id, 4, NULL, 0, &m.tr_id));
    int cid[3] = {m.x, m.x, m.tr_id};
    CHECK_OK(cg_graph_node(m.g, "conf_id", op("dae_confidence"), &conf, cid, 3, NULL, 0,
                           &m.conf_id));
    CHECK_OK(cg_graph_require_grad(m.g, m.x));
    CHECK_OK(cg_graph_compile(m.g, 5));
    float x[B * F];
    fill(x, B * F, 9, 1.0);
    CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(m.g, m.x), x, sizeof x));
    return m;
}

static void test_dae_confidence(void) {
    ae_model m = build_ae();
    /* The exact Jacobian, row i of every sample's from one backward pass seeded with e_i. */
    double J[B][F][F];
    float seed[B * F], grad[B * F], x[B * F], r[B * F];
    for (int i = 0; i < F; i++) {
        for (int k = 0; k < B * F; k++)
            seed[k] = k % F == i ? 1.0f : 0.0f;
        CHECK_OK(cg_graph_forward(m.g, false));
        CHECK_OK(cg_graph_backward_from(m.g, m.r, seed));
        CHECK_OK(cg_graph_read_grad(m.g, m.x, grad));
        for (int n = 0; n < B; n++)
            for (int j = 0; j < F; j++)
                J[n][i][j] = grad[n * F + j];
    }
    float tb[B], th[B], conf[B], tid[B], cid[B];
    CHECK_OK(cg_graph_forward(m.g, false));
    CHECK_OK(cg_graph_read_value(m.g, m.tr_basis, tb));
    CHECK_OK(cg_graph_read_value(m.g, m.tr_hutch, th));
    CHECK_OK(cg_graph_read_value(m.g, m.conf, conf));
    CHECK_OK(cg_graph_read_value(m.g, m.tr_id, tid));
    CHECK_OK(cg_graph_read_value(m.g, m.conf_id, cid));
    CHECK_OK(cg_graph_read_value(m.g, m.x, x));
    CHECK_OK(cg_graph_read_value(m.g, m.r, r));
    int bad_basis = 0, bad_hutch = 0, bad_conf = 0, bad_id = 0;
    for (int n = 0; n < B; n++) {
        double trace = 0, var = 0, e = 0;
        for (int i = 0; i < F; i++) {
            trace += J[n][i][i];
            e += pow((double)r[n * F + i] - x[n * F + i], 2);
            for (int j = 0; j < F; j++)
                if (i != j) /* Var(v^T J v) for +-1 probes: the off-diagonal pairs */
                    var += 0.5 * pow(J[n][i][j] + J[n][j][i], 2);
        }
        if (fabs(tb[n] - trace) > 2e-2) {
            bad_basis++;
            fprintf(stderr, "  sample %d: basis trace %g, exact %g\n", n, tb[n], trace);
        }
        if (fabs(th[n] - trace) > 5 * sqrt(var / HK) + 2e-2) {
            bad_hutch++;
            fprintf(stderr, "  sample %d: Hutchinson trace %g, exact %g (sd %g)\n", n, th[n],
                    trace, sqrt(var / HK));
        }
        double gamma = trace / F - 1;
        double want = exp(-20.0 / F * sqrt(e)) * (gamma <= 0 ? 1 : exp(-10 * gamma));
        if (fabs(conf[n] - want) > 2e-3 * (want + 1e-3)) {
            bad_conf++;
            fprintf(stderr, "  sample %d: confidence %g, by hand %g\n", n, conf[n], want);
        }
        bad_id += tid[n] != (float)F || cid[n] != 1.0f;
    }
    CHECK(bad_basis == 0, "the trace by forward differences in the basis matches the exact "
                          "Jacobian's (%d off)", bad_basis);
    CHECK(bad_hutch == 0, "Hutchinson's estimate with %d probes is within 5 standard deviations "
                          "of the exact trace (%d off)", HK, bad_hutch);
    CHECK(bad_conf == 0, "dae_confidence matches the formula on the exact trace (%d off)",
          bad_conf);
    CHECK(bad_id == 0, "the identity autoencoder: trace D and confidence 1 exactly (%d off)",
          bad_id);
    cg_graph_destroy(m.g);
}

int main(void) {
    ctx = cgt_open(NULL);
    test_dae_confidence();
    test_run_only();
    test_input_and_front_group();
    test_saved_forward_state();
    test_masked_metric();
    test_until();
    test_collect();
    cg_context_destroy(ctx);
    return cgt_finish("test_graph_api");
}
