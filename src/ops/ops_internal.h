/* What the op families share inside the op layer: their descriptors (collected by the table in
 * registry.c) and small launch helpers. */
#ifndef CG_OPS_INTERNAL_H
#define CG_OPS_INTERNAL_H

#include "ops/ops.h"

/* Elements a work-item of the kernels that take blocks of float16 (load16_part and
 * store16_part in common.cl: tanh_fwd, sigmoid_fwd, gaussian_noise, reparameterize). */
#define CG__BLOCK16 16

/* A power-of-two work-group size for tree reductions in local memory. */
size_t cg__reduce_local(const cg_context *ctx);

/* dx = alpha * dy, or dx += alpha * dy when acc. */
cg_status cg__scale_acc(cg_context *ctx, cl_mem dx, cl_mem dy, float alpha, bool acc, size_t n);

/* y += b[c] over (outer, channels, inner) y of n elements. */
cg_status cg__bias_add(cg_context *ctx, cl_mem y, cl_mem b, uint32_t channels, uint32_t inner,
                       size_t n);

/* db[c] += sum of dy over outer and inner. */
cg_status cg__bias_bwd(cg_context *ctx, cl_mem db, cl_mem dy, uint32_t channels, uint32_t inner,
                       uint32_t outer);

/* The descriptors, one per op. */
extern const cg_op_def cg__op_relu, cg__op_leaky_relu, cg__op_prelu, cg__op_tanh, cg__op_sigmoid,
    cg__op_add, cg__op_scale, cg__op_linear, cg__op_conv2d, cg__op_conv_transpose2d,
    cg__op_maxpool2d, cg__op_avgpool2d, cg__op_upsample, cg__op_flatten, cg__op_reshape,
    cg__op_concat, cg__op_slice, cg__op_softmax, cg__op_log_softmax, cg__op_dropout,
    cg__op_gaussian_noise, cg__op_reparameterize, cg__op_cross_entropy, cg__op_cool, cg__op_bce,
    cg__op_mse, cg__op_contrastive, cg__op_triplet, cg__op_similarity, cg__op_kl_normal,
    cg__op_kl_sample, cg__op_gaussian_nll, cg__op_accuracy, cg__op_cool_confidence,
    cg__op_mul, cg__op_probe, cg__op_jacobian_trace, cg__op_dae_confidence,
    cg__op_per_sample_linear, cg__op_pick, cg__op_max;

#endif
