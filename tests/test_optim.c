/* Optimizers against a double-precision reference of PyTorch's update rules over several steps,
 * with the gradients changing every step: SGD (plain; momentum with weight decay) and Adam
 * (defaults; with weight decay). The flat buffer is split into ranges with learning-rate scales
 * 1, 0.5 and 0 (frozen), and the frozen range must not move. */
#include <math.h>

#include "harness.h"
#include "ops/ops.h"

enum { N = 1001, STEPS = 6 };

static double gradient(size_t i, int step) {
    return sin(0.37 * (double)i + 1.3 * step) * (1 + 0.1 * step);
}

static double lr_scale(size_t i) {
    return i < 400 ? 1.0 : i < 700 ? 0.5 : 0.0;
}

/* The reference: torch.optim.SGD / Adam step for one parameter. */
static void ref_step(const cg_optim_config *c, double *p, double g, double *s1, double *s2,
                     double lr, int t) {
    double d = g + c->weight_decay * *p;
    if (c->kind == CG_OPTIM_SGD) {
        if (c->momentum != 0) {
            *s1 = t == 1 ? d : c->momentum * *s1 + d;
            d = *s1;
        }
        *p -= lr * d;
        return;
    }
    *s1 = c->beta1 * *s1 + (1 - c->beta1) * d;
    *s2 = c->beta2 * *s2 + (1 - c->beta2) * d * d;
    double bc1 = 1 - pow(c->beta1, t), bc2 = 1 - pow(c->beta2, t);
    *p -= lr / bc1 * *s1 / (sqrt(*s2) / sqrt(bc2) + c->eps);
}

static void run(cg_context *ctx, const char *name, cg_optim_config cfg) {
    float host[N], grad[N];
    double ref[N], s1[N] = {0}, s2[N] = {0};
    for (size_t i = 0; i < N; i++)
        ref[i] = host[i] = (float)cos(0.11 * (double)i);
    size_t n_state = cg_optim_state_floats(&cfg, N);
    cl_mem p, g, state = NULL;
    CHECK_OK(cg__buffer_create(ctx, sizeof host, &p));
    CHECK_OK(cg__buffer_create(ctx, sizeof grad, &g));
    CHECK_OK(cg__buffer_write(ctx, p, host, sizeof host));
    float *zeros = calloc(n_state + 1, sizeof(float));
    CHECK_OK(cg__buffer_create(ctx, (n_state + 1) * sizeof(float), &state));
    CHECK_OK(cg__buffer_write(ctx, state, zeros, (n_state + 1) * sizeof(float)));
    const cg_param_range ranges[] = {{0, 400, 1.0f}, {400, 300, 0.5f}, {700, 301, 0.0f}};
    for (int t = 1; t <= STEPS; t++) {
        for (size_t i = 0; i < N; i++) {
            grad[i] = (float)gradient(i, t);
            if (lr_scale(i) > 0)
                ref_step(&cfg, &ref[i], grad[i], &s1[i], &s2[i], cfg.lr * lr_scale(i), t);
        }
        CHECK_OK(cg__buffer_write(ctx, g, grad, sizeof grad));
        CHECK_OK(cg_optim_step(ctx, &cfg, p, g, state, N, ranges, 3, (uint64_t)t));
    }
    CHECK_OK(cg__buffer_read(ctx, p, host, sizeof host));
    size_t bad = 0;
    double moved = 0;
    for (size_t i = 0; i < N; i++) {
        double err = fabs(host[i] - ref[i]);
        moved = fmax(moved, fabs(ref[i] - cos(0.11 * (double)i)));
        if (err > 2e-6 * (1 + fabs(ref[i])) || (i >= 700 && host[i] != (float)cos(0.11 * (double)i))) {
            if (bad < 5)
                fprintf(stderr, "  %s [%zu]: device %.9g reference %.9g\n", name, i, host[i], ref[i]);
            bad++;
        }
    }
    CHECK(bad == 0, "%s: %zu parameters differ from the reference after %d steps", name, bad,
          STEPS);
    CHECK(moved > 1e-3, "%s: the parameters moved (%g)", name, moved);
    clReleaseMemObject(p);
    clReleaseMemObject(g);
    clReleaseMemObject(state);
    free(zeros);
    printf("ok   %s\n", name);
}

int main(void) {
    cg_context *ctx = cgt_open(NULL);
    cg_optim_config sgd = cg_optim_defaults(CG_OPTIM_SGD);
    run(ctx, "sgd", sgd);
    sgd.momentum = 0.9f;
    sgd.weight_decay = 5e-4f;
    sgd.lr = 0.05f;
    run(ctx, "sgd momentum weight-decay", sgd);
    cg_optim_config adam = cg_optim_defaults(CG_OPTIM_ADAM);
    run(ctx, "adam", adam);
    adam.lr = 0.01f;
    adam.weight_decay = 1e-2f;
    run(ctx, "adam lr 0.01 weight-decay", adam);
    CHECK(adam.beta1 == 0.9f && adam.beta2 == 0.999f && adam.eps == 1e-8f &&
              cg_optim_defaults(CG_OPTIM_ADAM).lr == 1e-3f,
          "PyTorch's Adam defaults");
    cl_mem dummy;
    CHECK_OK(cg__buffer_create(ctx, 16, &dummy));
    const cg_param_range past[] = {{2, 3, 1.0f}};
    cg_status st = cg_optim_step(ctx, &adam, dummy, dummy, dummy, 4, past, 1, 1);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "a range past the end is refused");
    CHECK_CONTAINS(cg_error_message(), "runs past the 4 parameters");
    st = cg_optim_step(ctx, &adam, dummy, dummy, dummy, 4, past, 0, 0);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "step 0 is refused");
    clReleaseMemObject(dummy);
    cg_context_destroy(ctx);
    return cgt_finish("test_optim");
}
