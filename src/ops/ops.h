/* The op layer: every op the pipelines use, as a descriptor with a shape rule, a forward
 * launcher and a backward launcher. The graph executor drives ops only through this table, so
 * adding an op touches its family file, its kernel file and one row of the table.
 *
 * Conventions (all float32 unless said, NCHW, row-major):
 *  - A tensor is a device buffer (often a sub-buffer of a planned arena) with element 0 at its
 *    start, plus a shape of up to 4 dims.
 *  - Launchers only enqueue work: they never wait for the device or read results back.
 *  - Backward writes input gradients, overwriting them unless din_accumulate[i] is set, and
 *    always adds into parameter gradients, so a module used twice sums its gradients.
 *  - Parameter layouts are PyTorch's: linear weight (out, in), conv weight (out, in, kh, kw),
 *    conv_transpose weight (in, out, kh, kw).
 *  - Losses take (prediction, target...) and output one value per sample (N); the executor
 *    reduces them, and seeds the backward with dout = weight / count for a mean. */
#ifndef CG_OPS_H
#define CG_OPS_H

#include "device/device_internal.h"

#define CG_MAX_DIMS 4
#define CG_MAX_INPUTS 4
#define CG_MAX_PARAMS 2

typedef enum cg_dtype { CG_F32, CG_I32 } cg_dtype;

typedef struct cg_shape {
    int ndim;
    int d[CG_MAX_DIMS];
} cg_shape;

typedef struct cg_tensor {
    cl_mem mem;
    cg_dtype dtype;
    cg_shape shape;
} cg_tensor;

/* The number of elements of a shape (1 for ndim 0). */
size_t cg_shape_numel(const cg_shape *s);

bool cg_shape_equal(const cg_shape *a, const cg_shape *b);

/* "(64, 1, 28, 28)" */
void cg_shape_str(const cg_shape *s, char *out, size_t cap);

static inline cg_shape cg_shape_make(int ndim, int d0, int d1, int d2, int d3) {
    cg_shape s = {ndim, {d0, d1, d2, d3}};
    return s;
}

/* Loss reductions: the mean as PyTorch takes it for that loss (over samples, or over every
 * element for mse and binary_cross_entropy), the plain sum, or the sum divided by the batch size
 * (per-sample sums averaged over samples, as a VAE's ELBO is usually written). */
typedef enum cg_reduction { CG_REDUCE_MEAN, CG_REDUCE_SUM, CG_REDUCE_BATCH_MEAN } cg_reduction;

/* Every op's attributes in one record; each op reads the fields it documents. */
typedef struct cg_op_attrs {
    int features;  /* linear: out features; conv2d / conv_transpose2d: out channels */
    int kernel[2]; /* conv, pooling: (h, w) */
    int stride[2]; /* conv, pooling: (h, w); 0 means "same as kernel" for pooling */
    int pad[2];    /* conv: zero padding (h, w) */
    int factor;    /* upsample: scale factor */
    int count;     /* prelu: slopes (1 = shared, else one per channel); cool: omega;
                      similarity: number of classes */
    bool bias;     /* linear, conv: with a bias */
    bool clamp;    /* gaussian_noise: clamp the result to [0, 1] */
    float alpha;   /* leaky_relu slope; scale factor; dropout p; noise std; loss margin;
                      prelu initial slope */
    cg_shape target; /* reshape: the output shape, batch dim included; -1 infers one dim */
    int slice[2];    /* slice: first channel and channel count along dim 1 */
    int conv_algo;   /* conv2d: CG_CONV_AUTO, CG_CONV_IM2COL or CG_CONV_DIRECT */
    int sample;      /* reparameterize: when it draws, CG_SAMPLE_* */
    float beta;      /* dae_confidence: the weight of the Jacobian term */
    bool basis;      /* probe: one probe per input element (the finite-difference diagonal) */
    bool thresholded; /* accuracy: a sample counts only when its best score exceeds threshold */
    float threshold;
} cg_op_attrs;

/* When reparameterize draws eps (else z = mu): in training only (the default), in evaluation
 * too (a held-out ELBO, importance-weighted bounds, samples from the prior), or never (a
 * deterministic autoencoder, for checks). */
enum { CG_SAMPLE_TRAINING, CG_SAMPLE_ALWAYS, CG_SAMPLE_NEVER };


/* One forward or backward launch. Arrays have n_in / n_params entries. */
typedef struct cg_op_call {
    cg_context *ctx;
    const cg_op_attrs *attrs;
    int n_in;
    const cg_tensor *in;
    int n_params;
    const cg_tensor *params;
    const cg_tensor *out;
    /* backward only */
    const cg_tensor *dout;
    const cg_tensor *din;        /* din[i].mem NULL: no gradient wanted for input i */
    const bool *din_accumulate;  /* NULL: overwrite every din */
    const cg_tensor *dparams;    /* accumulated into */
    /* workspace of the size the shape rule asked for (NULL when it asked for none) */
    cl_mem scratch;
    bool training;
    /* randomness: Philox key and the counter of this launch (advanced by the executor): the
     * kernels take counter + the word at counter_base (NULL: a word of zeros), which lets a
     * graph keep its changing part on the device */
    uint32_t seed[2];
    uint32_t counter;
    cl_mem counter_base;
} cg_op_call;

/* The shape rule's answer. */
typedef struct cg_op_shapes {
    cg_shape out;
    cg_dtype out_dtype;
    int n_params;
    cg_shape params[CG_MAX_PARAMS];
    size_t scratch_bytes; /* workspace needed by forward or backward */
    int loss_elements;    /* losses: values per sample that a mean divides by (PyTorch's mean
                             for mse and bce is over every element; for cross-entropy over
                             samples) */
} cg_op_shapes;

typedef struct cg_op_def {
    const char *name;
    const char *program; /* the .cl file of its kernels, NULL for ops without kernels */
    int min_inputs, max_inputs;
    bool is_loss;
    /* Checks the inputs and computes the output shape, the parameter shapes and the scratch
     * size; a bad shape fails with CG_ERR_SHAPE and a message saying what is wrong. */
    cg_status (*infer)(const cg_op_attrs *a, const cg_shape *in, const cg_dtype *in_types,
                       int n_in, cg_op_shapes *out);
    cg_status (*forward)(const cg_op_call *c);
    cg_status (*backward)(const cg_op_call *c); /* NULL for metrics, which have no gradient */
    /* The output is the input with another shape (flatten, reshape): an executor may alias the
     * two buffers and skip both launches; forward and backward still copy when called. */
    bool is_view;
    /* Ops that score classes against integer labels: the input holding the labels (1-based; 0
     * for none) and the number of classes their scores have, so labels can be checked. */
    int label_input;
    int (*classes)(const cg_op_attrs *a, const cg_shape *in);
} cg_op_def;

/* The classes of ops whose first input has one score per class (cross_entropy, accuracy). */
int cg__classes_of_width(const cg_op_attrs *a, const cg_shape *in);

/* The op of this name, or NULL. */
const cg_op_def *cg_op_find(const char *name);

/* Every op, for listings and tests. */
const cg_op_def *cg_op_at(size_t index);
size_t cg_op_count(void);

/* Whether backward should add into din[i] rather than overwrite it. */
static inline bool cg_op_din_acc(const cg_op_call *c, int i) {
    return c->din_accumulate && c->din_accumulate[i];
}

/* Runs one op on host data, for checks and tests: uploads the inputs, parameters and dout,
 * runs forward (and backward when dout is given), and reads the results back. Integer inputs
 * are given as floats and converted. Output arrays are sized from the shape rule (shapes). */
typedef struct cg_op_host_io {
    const cg_op_def *op;
    const cg_op_attrs *attrs;
    int n_in;
    cg_shape in_shape[CG_MAX_INPUTS];
    cg_dtype in_type[CG_MAX_INPUTS];
    const float *in[CG_MAX_INPUTS];
    const float *params[CG_MAX_PARAMS];
    const float *dout;                         /* NULL: forward only */
    bool want_din[CG_MAX_INPUTS];
    const float *din_init[CG_MAX_INPUTS];      /* non-NULL: accumulate onto these values */
    const float *dparams_init[CG_MAX_PARAMS];  /* NULL: parameter gradients start at 0 */
    bool training;
    uint32_t seed[2];
    uint32_t counter;
    /* results, allocated by the caller */
    float *out;
    float *din[CG_MAX_INPUTS];
    float *dparams[CG_MAX_PARAMS];
} cg_op_host_io;

cg_status cg_op_run_host(cg_context *ctx, const cg_op_host_io *io, cg_op_shapes *shapes);

/* ---- op cases (cases.c) ---- */

/* How a case's input is drawn. */
typedef enum cg_case_gen {
    CG_GEN_NORMAL, /* N(0, 1) */
    CG_GEN_LABELS, /* integers in [0, label_range) */
    CG_GEN_BINARY, /* 0 or 1 */
    CG_GEN_UNIT,   /* uniform in (0, 1) */
    CG_GEN_TRACE,  /* 12 + 3 N(0, 1): a Jacobian trace around D = 12, on both sides of it */
} cg_case_gen;

/* One case of an op. */
typedef struct cg_op_case {
    const char *op;
    cg_op_attrs attrs;
    int n_in;
    cg_shape shape[CG_MAX_INPUTS];
    cg_case_gen gen[CG_MAX_INPUTS];
    bool grad[CG_MAX_INPUTS]; /* differentiable inputs */
    int label_range;
    double tol;         /* |device - reference| <= tol * (1 + |reference|) */
    bool eval;          /* run in evaluation mode (training is the default) */
    bool bench;         /* a seed model's shape, timed by `clgraph bench --ops`, not tested */
    const char *label;  /* which layer it is ("lenet conv1"), NULL for test rows */
} cg_op_case;

/* Every case, in table order; NULL past the end. */
const cg_op_case *cg_op_case_at(size_t i);
size_t cg_op_case_count(void);

/* One value drawn as `kind` says from a xorshift stream (*state, not 0): for the benchmark and
 * the self-test, which need values of the right range rather than of the right distribution
 * (CG_GEN_NORMAL gives uniform values in (-1, 1)). */
float cg_op_case_value(cg_case_gen kind, int label_range, uint32_t *state);

/* n such values in a new array (freed with free(); NULL without memory). */
float *cg_op_case_draw(size_t n, cg_case_gen kind, int label_range, uint32_t *state);

/* The case's input types (labels as int32, the rest float32) and what its op's shape rule
 * makes of it; an unknown op or a bad shape fails with the message saying why. */
cg_status cg_op_case_shapes(const cg_op_case *c, cg_dtype types[CG_MAX_INPUTS],
                            cg_op_shapes *out);

/* Whether the op has a benchmark row (a seed model's shape). */
bool cg_op_case_has_bench_row(const char *op);

/* ---- optimizers over the flat parameter buffer ---- */

typedef enum cg_optim_kind { CG_OPTIM_SGD, CG_OPTIM_ADAM } cg_optim_kind;

typedef struct cg_optim_config {
    cg_optim_kind kind;
    float lr;
    float momentum; /* SGD */
    float weight_decay;
    float beta1, beta2, eps; /* Adam */
} cg_optim_config;

/* PyTorch's defaults (Adam lr 1e-3, betas 0.9 / 0.999, eps 1e-8; SGD lr 0.01). */
cg_optim_config cg_optim_defaults(cg_optim_kind kind);

/* A contiguous range of the flat buffer that shares one learning-rate scale; scale 0 freezes
 * it (no launch at all). */
typedef struct cg_param_range {
    size_t offset, count;
    float lr_scale;
} cg_param_range;

/* Floats of optimizer state for n parameters (Adam: m and v; SGD with momentum: one buffer). */
size_t cg_optim_state_floats(const cg_optim_config *cfg, size_t n_params);

/* One optimizer step (step counts from 1; it sets Adam's bias correction and starts SGD's
 * momentum) over every range, one kernel launch per unfrozen range. state must hold
 * cg_optim_state_floats floats, zeroed before step 1. */
cg_status cg_optim_step(cg_context *ctx, const cg_optim_config *cfg, cl_mem params, cl_mem grads,
                        cl_mem state, size_t n_total, const cg_param_range *ranges,
                        size_t n_ranges, uint64_t step);

/* The step's numbers that change with t, as the optimizer kernels read them from a device
 * buffer of four words: words[1] = 1 / (1 - beta1^t), words[2] = sqrt(1 - beta2^t) (Adam),
 * words[3] = 1.0f on SGD's first step, else 0 (floats' bits). words[0] is left alone (a
 * graph keeps its random-number counter base there). */
void cg__optim_words(const cg_optim_config *cfg, uint64_t step, uint32_t words[4]);

/* cg_optim_step with those words already on the device, in the first 16 bytes of `words`: the
 * launches are then the same at every step. */
cg_status cg__optim_step_with(cg_context *ctx, const cg_optim_config *cfg, cl_mem params,
                              cl_mem grads, cl_mem state, size_t n_total,
                              const cg_param_range *ranges, size_t n_ranges, cl_mem words);

/* acc[slot] += scale * sum of x[0..n): one work-group, no host synchronisation. */
cg_status cg__sum_into(cg_context *ctx, cl_mem acc, uint32_t slot, cl_mem x, size_t n,
                       float scale);
/* The same sum added to two slots, each with its own scale, in one launch. */
cg_status cg__sum_into2(cg_context *ctx, cl_mem acc, uint32_t slot, float scale, uint32_t slot2,
                        float scale2, cl_mem x, size_t n);

/* acc[slot] += sum of x's rows (row_len values each) whose mask entry is not zero, and
 * acc[count_slot] += how many rows that is; mask holds int32 (mask_int) or float per row. */
cg_status cg__sum_masked_into(cg_context *ctx, cl_mem acc, uint32_t slot, uint32_t count_slot,
                              cl_mem x, cl_mem mask, bool mask_int, size_t rows, size_t row_len);

/* hit[i] = step wherever hit[i] < 0 and cond[i] >= threshold, i < n (int32 hit). */
cg_status cg__mark_first(cg_context *ctx, cl_mem hit, cl_mem cond, float threshold, int32_t step,
                         size_t n);

/* Fills n int32 values of buf from the host (waits). */
cg_status cg__fill_i32(cg_context *ctx, cl_mem buf, int32_t value, size_t n);

/* The raw Philox4x32-10 stream: out (4n uints) = philox(ctr + (i, 0, 0, 0), key) for i < n. */
cg_status cg__philox_raw(cg_context *ctx, cl_mem out, const uint32_t ctr[4], const uint32_t key[2],
                         size_t n);

/* out[i] = uniform [0, 1) or standard normal draw i of (seed, counter). */
cg_status cg__rand_fill(cg_context *ctx, cl_mem out, bool normal, const uint32_t seed[2],
                        uint32_t counter, size_t n);

/* Shape error helper: "conv2d: <message>" with CG_ERR_SHAPE. */
cg_status cg__shape_error(const char *op, const char *fmt, ...) CG__PRINTF(2, 3);

#endif
