/* The op table and shape helpers. The table is the one place that lists every op. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops_internal.h"

static const cg_op_def *const table[] = {
    &cg__op_relu, &cg__op_leaky_relu, &cg__op_prelu, &cg__op_tanh,
    &cg__op_sigmoid, &cg__op_add, &cg__op_scale, &cg__op_linear,
    &cg__op_conv2d, &cg__op_conv_transpose2d, &cg__op_maxpool2d, &cg__op_avgpool2d,
    &cg__op_upsample, &cg__op_flatten, &cg__op_reshape, &cg__op_concat,
    &cg__op_slice, &cg__op_softmax, &cg__op_log_softmax, &cg__op_dropout,
    &cg__op_gaussian_noise, &cg__op_reparameterize, &cg__op_cross_entropy, &cg__op_cool,
    &cg__op_bce, &cg__op_mse, &cg__op_contrastive, &cg__op_triplet, &cg__op_similarity,
    &cg__op_kl_normal, &cg__op_kl_sample, &cg__op_gaussian_nll, &cg__op_accuracy, &cg__op_cool_confidence,
    &cg__op_mul, &cg__op_probe, &cg__op_jacobian_trace, &cg__op_dae_confidence,
    &cg__op_per_sample_linear, &cg__op_pick, &cg__op_max,
};

const cg_op_def *cg_op_find(const char *name) {
    for (size_t i = 0; i < CG__ARRAY_LEN(table); i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

const cg_op_def *cg_op_at(size_t index) {
    return index < CG__ARRAY_LEN(table) ? table[index] : NULL;
}

size_t cg_op_count(void) {
    return CG__ARRAY_LEN(table);
}

size_t cg_shape_numel(const cg_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->d[i];
    return n;
}

bool cg_shape_equal(const cg_shape *a, const cg_shape *b) {
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i])
            return false;
    return true;
}

void cg_shape_str(const cg_shape *s, char *out, size_t cap) {
    size_t used = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < s->ndim && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, i ? ", %d" : "%d", s->d[i]);
    if (used < cap)
        snprintf(out + used, cap - used, ")");
}

cg_status cg__shape_error(const char *op, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cg__error(CG_ERR_SHAPE, "%s: %s", op, msg);
}

size_t cg__reduce_local(const cg_context *ctx) {
    size_t local = 256;
    while (local > ctx->info.max_work_group_size)
        local /= 2;
    return local;
}
