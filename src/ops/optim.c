/* Optimizer steps over the flat parameter buffer (kernels in cl/optim.cl). */
#include <math.h>
#include <string.h>

#include "ops/ops_internal.h"

#define PROGRAM "optim.cl"

size_t cg_optim_state_floats(const cg_optim_config *cfg, size_t n_params) {
    switch (cfg->kind) {
    case CG_OPTIM_SGD:
        return cfg->momentum != 0.0f ? n_params : 0;
    case CG_OPTIM_ADAM:
        return 2 * n_params;
    }
    return 0;
}

static uint32_t float_bits(double v) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

void cg__optim_words(const cg_optim_config *cfg, uint64_t step, uint32_t words[4]) {
    bool adam = cfg->kind == CG_OPTIM_ADAM;
    words[1] = float_bits(adam ? 1 / (1 - pow(cfg->beta1, (double)step)) : 1);
    words[2] = float_bits(adam ? sqrt(1 - pow(cfg->beta2, (double)step)) : 1);
    words[3] = float_bits(step == 1 ? 1 : 0);
}

cg_status cg_optim_step(cg_context *ctx, const cg_optim_config *cfg, cl_mem params, cl_mem grads,
                        cl_mem state, size_t n_total, const cg_param_range *ranges,
                        size_t n_ranges, uint64_t step) {
    if (step < 1)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "optimizer steps count from 1, not %llu",
                         (unsigned long long)step);
    uint32_t words[4] = {0};
    cg__optim_words(cfg, step, words);
    cl_mem buf = NULL;
    cg_status st = cg__buffer_create(ctx, sizeof words, &buf);
    if (st == CG_OK)
        st = cg__buffer_fill16(ctx, buf, words);
    if (st == CG_OK)
        st = cg__optim_step_with(ctx, cfg, params, grads, state, n_total, ranges, n_ranges, buf);
    cg__buffer_release(buf); /* the queue keeps it until the launches are done */
    return st;
}

cg_status cg__optim_step_with(cg_context *ctx, const cg_optim_config *cfg, cl_mem params,
                              cl_mem grads, cl_mem state, size_t n_total,
                              const cg_param_range *ranges, size_t n_ranges, cl_mem words) {
    for (size_t r = 0; r < n_ranges; r++) {
        const cg_param_range *g = &ranges[r];
        if (g->lr_scale == 0.0f || g->count == 0)
            continue; /* frozen: no work at all */
        if (g->offset + g->count > n_total)
            return cg__error(CG_ERR_INVALID_ARGUMENT,
                             "parameter range %zu (%zu + %zu) runs past the %zu parameters", r,
                             g->offset, g->count, n_total);
        float lr = cfg->lr * g->lr_scale;
        cg_status st;
        if (cfg->kind == CG_OPTIM_SGD) {
            const cg__karg args[] = {CG_KMEM(params),        CG_KMEM(grads),
                                     CG_KMEM(state),         CG_KF32(lr),
                                     CG_KF32(cfg->momentum), CG_KF32(cfg->weight_decay),
                                     CG_KMEM(words),         CG_KU32(g->offset),
                                     CG_KU32(g->count)};
            st = cg__kernel_run1d(ctx, PROGRAM, "sgd_step", g->count, 0, args,
                                  CG__ARRAY_LEN(args));
        } else {
            const cg__karg args[] = {CG_KMEM(params),     CG_KMEM(grads),
                                     CG_KMEM(state),      CG_KF32(lr),
                                     CG_KF32(cfg->beta1), CG_KF32(cfg->beta2),
                                     CG_KF32(cfg->eps),   CG_KF32(cfg->weight_decay),
                                     CG_KMEM(words),      CG_KU32(n_total),
                                     CG_KU32(g->offset),  CG_KU32(g->count)};
            st = cg__kernel_run1d(ctx, PROGRAM, "adam_step", (g->count + 7) / 8, 0, args,
                                  CG__ARRAY_LEN(args)); /* 8 parameters an item */
        }
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

cg_optim_config cg_optim_defaults(cg_optim_kind kind) {
    /* PyTorch's defaults: SGD has no default learning rate there; 0.01 is the usual start. */
    cg_optim_config c = {kind, kind == CG_OPTIM_ADAM ? 1e-3f : 1e-2f, 0.0f, 0.0f, 0.9f, 0.999f,
                         1e-8f};
    return c;
}
