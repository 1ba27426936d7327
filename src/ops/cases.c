/* The op cases: one row per (op, attributes, input shapes) with how its test data is drawn and
 * the tolerance its results must meet against the double-precision CPU reference. The same rows
 * feed the op tests (tests/test_ops.c, every row that is not a benchmark row), the self-test's
 * gradient check and `clgraph bench --ops` (every row, benchmark rows at the seed models' shapes
 * included). Adding an op adds its rows here. */
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

/* Rows leave their trailing fields (eval, bench, label) at zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define S4(a, b, c, d) {4, {a, b, c, d}}
#define S2(a, b) {2, {a, b, 0, 0}}
#define S1(a) {1, {a, 0, 0, 0}}
#define N1 {CG_GEN_NORMAL}
#define G1 {true}
#define N2 {CG_GEN_NORMAL, CG_GEN_NORMAL}
#define G2 {true, true}
#define LAB {CG_GEN_NORMAL, CG_GEN_LABELS}
#define GX {true, false}
/* A seed model's convolution; its first layer (`first`) needs no data gradient, as in the model */
#define BENCH_CONV(n, c, h, w, o, k, first, what)                                                  \
    {"conv2d", {.features = o, .kernel = {k, k}, .bias = true}, 1, {S4(n, c, h, w)}, N1,          \
     {!(first)}, 0, 0, false, true, what}

static const cg_op_case cases[] = {
    {"relu", {0}, 1, {S4(1, 7, 13, 13)}, N1, G1, 0, 1e-5},
    {"relu", {0}, 1, {S2(65, 17)}, N1, G1, 0, 1e-5},
    {"leaky_relu", {.alpha = 0.01f}, 1, {S4(65, 3, 5, 5)}, N1, G1, 0, 1e-5},
    {"leaky_relu", {.alpha = 0.2f}, 1, {S2(1, 9)}, N1, G1, 0, 1e-5},
    {"prelu", {.count = 1}, 1, {S4(3, 7, 13, 13)}, N1, G1, 0, 1e-4},
    {"prelu", {.count = 7}, 1, {S4(65, 7, 3, 3)}, N1, G1, 0, 1e-4},
    {"prelu", {.count = 3}, 1, {S2(5, 3)}, N1, G1, 0, 1e-4},
    {"prelu", {.count = 1}, 1, {S2(1, 256)}, N1, G1, 0, 1e-4},
    /* the slope gradient in several chunks: 32,955 and 21,970 elements per slope */
    {"prelu", {.count = 1}, 1, {S4(65, 3, 13, 13)}, N1, G1, 0, 1e-4},
    {"prelu", {.count = 2}, 1, {S4(130, 2, 13, 13)}, N1, G1, 0, 1e-4},
    {"tanh", {0}, 1, {S4(2, 3, 13, 13)}, N1, G1, 0, 1e-5},
    {"sigmoid", {0}, 1, {S2(65, 11)}, N1, G1, 0, 1e-5},
    {"add", {0}, 2, {S4(1, 3, 13, 13), S4(1, 3, 13, 13)}, N2, G2, 0, 1e-5},
    {"scale", {.alpha = -0.37f}, 1, {S2(65, 7)}, N1, G1, 0, 1e-5},
    {"linear", {.features = 7, .bias = true}, 1, {S2(65, 13)}, N1, G1, 0, 1e-4},
    {"linear", {.features = 1, .bias = false}, 1, {S2(1, 3)}, N1, G1, 0, 1e-4},
    {"linear", {.features = 120, .bias = true}, 1, {S2(5, 400)}, N1, G1, 0, 3e-4},
    /* our GEMM's blocks of 8 rows by two 16-column vectors, the last of each shifted back inside
     * C: 65 rows and 50 columns forward, 50 by 40 (A transposed) for the weight gradient */
    {"linear", {.features = 50, .bias = true}, 1, {S2(65, 40)}, N1, G1, 0, 3e-4},
    {"conv2d", {.features = 6, .kernel = {5, 5}, .bias = true, .conv_algo = CG_CONV_IM2COL}, 1,
     {S4(2, 3, 13, 13)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 6, .kernel = {5, 5}, .bias = true, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(2, 3, 13, 13)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 4, .kernel = {3, 2}, .stride = {2, 1}, .pad = {1, 2}, .bias = true,
                .conv_algo = CG_CONV_IM2COL},
     1, {S4(3, 7, 9, 8)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 4, .kernel = {3, 2}, .stride = {2, 1}, .pad = {1, 2}, .bias = true,
                .conv_algo = CG_CONV_DIRECT},
     1, {S4(3, 7, 9, 8)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 3, .kernel = {3, 3}, .conv_algo = CG_CONV_IM2COL}, 1,
     {S4(65, 1, 7, 7)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 2, .kernel = {1, 1}, .bias = true, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(1, 1, 13, 13)}, N1, G1, 0, 2e-4},
    /* the direct kernels' vector paths: a 28-wide output (two 16-column blocks that overlap),
     * stride 1 with padding (the data gradient as a flipped convolution), and a batch that the
     * weight gradient splits into chunks of several samples */
    {"conv2d", {.features = 6, .kernel = {5, 5}, .bias = true, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(2, 3, 32, 32)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 5, .kernel = {3, 3}, .pad = {1, 1}, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(3, 4, 11, 19)}, N1, G1, 0, 2e-4},
    {"conv2d", {.features = 16, .kernel = {5, 5}, .pad = {2, 2}, .bias = true,
                .conv_algo = CG_CONV_DIRECT},
     1, {S4(33, 7, 8, 20)}, N1, G1, 0, 3e-4},
    /* the weight gradient's plain rows with no last block (16 columns: one vector), 7 channels
     * in tiles of 3 (the last partly past O) and chunks of 2 samples */
    {"conv2d", {.features = 7, .kernel = {3, 3}, .bias = true, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(240, 1, 6, 18)}, N1, G1, 0, 3e-4},
    /* 144 input taps over rows of 10 in 12: the weight gradient over rows laid end to end */
    {"conv2d", {.features = 8, .kernel = {3, 3}, .bias = true, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(2, 16, 12, 12)}, N1, G1, 0, 3e-4},
    /* Channels last (144 or more input taps): stride 2 with padding and 20 channels (a group of
     * two 16-channel vectors, the second partly past O), samples split into chunks; 32 channels
     * over 7 columns, its data gradient (8 channels) channels last too */
    {"conv2d", {.features = 20, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1}, .bias = true,
                .conv_algo = CG_CONV_DIRECT},
     1, {S4(5, 16, 11, 13)}, N1, G1, 0, 3e-4},
    {"conv2d", {.features = 32, .kernel = {5, 5}, .pad = {2, 2}, .conv_algo = CG_CONV_DIRECT},
     1, {S4(3, 8, 9, 7)}, N1, G1, 0, 3e-4},
    /* a data gradient that skips its column padding (4 columns, 2 of them real under each
     * 3-tap window on average): 40 channels in a tile of two vectors and a partial one, 2 rows a
     * work-item over 5 (rows of padding beside real ones) */
    {"conv2d", {.features = 24, .kernel = {3, 3}, .conv_algo = CG_CONV_DIRECT}, 1,
     {S4(3, 40, 5, 4)}, N1, G1, 0, 3e-4},
    {"conv_transpose2d", {.features = 16, .kernel = {5, 5}, .bias = true}, 1, {S4(2, 32, 6, 6)},
     N1, G1, 0, 3e-4},
    {"conv_transpose2d", {.features = 3, .kernel = {5, 5}, .bias = true}, 1, {S4(2, 4, 6, 6)},
     N1, G1, 0, 2e-4},
    {"conv_transpose2d", {.features = 2, .kernel = {3, 3}, .stride = {2, 2}, .pad = {1, 1},
                          .bias = true},
     1, {S4(3, 7, 5, 4)}, N1, G1, 0, 2e-4},
    {"conv_transpose2d", {.features = 1, .kernel = {2, 3}}, 1, {S4(1, 1, 13, 13)}, N1, G1, 0,
     2e-4},
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(2, 3, 13, 13)}, N1, G1, 0, 1e-5},
    {"maxpool2d", {.kernel = {3, 2}, .stride = {2, 1}}, 1, {S4(65, 1, 7, 6)}, N1, G1, 0, 1e-5},
    /* 2x2 windows on even inputs (the vector kernels): 7 output columns (a block of 4 and one
     * that overlaps it), exactly 4, 3 (blocks of 2, overlapping) and 2 */
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(3, 2, 10, 14)}, N1, G1, 0, 1e-5},
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(2, 3, 4, 8)}, N1, G1, 0, 1e-5},
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(3, 2, 6, 6)}, N1, G1, 0, 1e-5},
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(2, 1, 4, 4)}, N1, G1, 0, 1e-5},
    {"avgpool2d", {.kernel = {2, 2}}, 1, {S4(1, 7, 13, 13)}, N1, G1, 0, 1e-5},
    {"avgpool2d", {.kernel = {3, 3}, .stride = {1, 2}}, 1, {S4(3, 2, 7, 9)}, N1, G1, 0, 1e-5},
    /* by 2: the 2x2 kernels, 5 columns (a block of 4 and one shifted back over 3 of them) and
     * 3 (blocks of 2) */
    {"upsample", {.factor = 2}, 1, {S4(2, 3, 7, 5)}, N1, G1, 0, 1e-5},
    {"upsample", {.factor = 2}, 1, {S4(2, 2, 3, 3)}, N1, G1, 0, 1e-5},
    {"upsample", {.factor = 3}, 1, {S4(1, 1, 1, 1)}, N1, G1, 0, 1e-5},
    /* rows wider than a work-group of the backward (64 columns), with a factor of 3 */
    {"upsample", {.factor = 3}, 1, {S4(1, 2, 3, 70)}, N1, G1, 0, 1e-5},
    {"flatten", {0}, 1, {S4(65, 3, 5, 5)}, N1, G1, 0, 1e-6},
    {"reshape", {.target = {4, {-1, 4, 2, 2}}}, 1, {S2(3, 16)}, N1, G1, 0, 1e-6},
    {"reshape", {.target = {1, {-1, 0, 0, 0}}}, 1, {S2(7, 1)}, N1, G1, 0, 1e-6},
    {"concat", {0}, 2, {S4(2, 3, 5, 5), S4(2, 1, 5, 5)}, N2, G2, 0, 1e-6},
    {"concat", {0}, 3, {S2(65, 10), S2(65, 10), S2(65, 7)}, {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL},
     {true, false, true}, 0, 1e-6},
    {"slice", {.slice = {1, 1}}, 1, {S4(65, 2, 7, 7)}, N1, G1, 0, 1e-6},
    {"slice", {.slice = {0, 3}}, 1, {S2(4, 7)}, N1, G1, 0, 1e-6},
    {"softmax", {0}, 1, {S2(65, 10)}, N1, G1, 0, 1e-5},
    {"softmax", {0}, 1, {S2(1, 2)}, N1, G1, 0, 1e-5},
    {"log_softmax", {0}, 1, {S2(7, 13)}, N1, G1, 0, 1e-5},
    {"dropout", {.alpha = 0.3f}, 1, {S4(65, 3, 7, 7)}, N1, G1, 0, 1e-5},
    {"dropout", {.alpha = 0.3f}, 1, {S2(5, 13)}, N1, G1, 0, 1e-6, true},
    {"dropout", {.alpha = 0.0f}, 1, {S2(5, 13)}, N1, G1, 0, 1e-6},
    {"gaussian_noise", {.alpha = 0.1f, .clamp = true}, 1, {S4(3, 1, 13, 13)}, {CG_GEN_UNIT}, G1, 0,
     1e-5},
    {"gaussian_noise", {.alpha = 0.5f}, 1, {S2(65, 7)}, N1, G1, 0, 1e-5},
    {"gaussian_noise", {.alpha = 0.5f, .clamp = true}, 1, {S2(4, 7)}, N1, G1, 0, 1e-6, true},
    {"reparameterize", {0}, 2, {S2(65, 30), S2(65, 30)}, N2, G2, 0, 1e-5},
    {"reparameterize", {0}, 2, {S2(3, 2), S2(3, 2)}, N2, G2, 0, 1e-6, true},
    {"reparameterize", {.sample = CG_SAMPLE_ALWAYS}, 2, {S2(5, 3), S2(5, 3)}, N2, G2, 0, 1e-5,
     true},
    {"reparameterize", {.sample = CG_SAMPLE_NEVER}, 2, {S2(5, 3), S2(5, 3)}, N2, G2, 0, 1e-6},
    {"cross_entropy", {0}, 2, {S2(65, 10), S1(65)}, LAB, GX, 10, 1e-5},
    {"cross_entropy", {0}, 2, {S2(1, 2), S1(1)}, LAB, GX, 2, 1e-5},
    {"cool", {.count = 3}, 2, {S2(7, 12), S1(7)}, LAB, GX, 4, 1e-5},
    {"cool", {.count = 1}, 2, {S2(65, 10), S1(65)}, LAB, GX, 10, 1e-5},
    {"binary_cross_entropy", {0}, 2, {S2(65, 1), S2(65, 1)}, {CG_GEN_NORMAL, CG_GEN_BINARY}, GX, 0,
     1e-5},
    {"binary_cross_entropy", {0}, 2, {S4(3, 1, 7, 7), S4(3, 1, 7, 7)}, {CG_GEN_NORMAL, CG_GEN_UNIT},
     GX, 0, 1e-5},
    {"binary_cross_entropy", {0}, 2, {S2(65, 1), S1(65)}, {CG_GEN_NORMAL, CG_GEN_BINARY}, GX, 0, 1e-5},
    {"mse", {0}, 2, {S4(3, 1, 13, 13), S4(3, 1, 13, 13)}, N2, G2, 0, 1e-5},
    {"mse", {0}, 2, {S2(65, 30), S2(65, 30)}, {CG_GEN_NORMAL, CG_GEN_UNIT}, GX, 0, 1e-5},
    {"contrastive", {.alpha = 1.0f}, 3, {S2(65, 2), S2(65, 2), S1(65)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_BINARY}, G2, 0, 1e-5},
    {"contrastive", {.alpha = 2.0f}, 3, {S2(3, 5), S2(3, 5), S1(3)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_BINARY}, G2, 0, 1e-5},
    {"contrastive", {.alpha = 1.0f}, 4, {S2(65, 2), S2(65, 2), S1(65), S1(65)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_BINARY, CG_GEN_UNIT}, G2, 0, 1e-5},
    {"triplet", {.alpha = 1.0f}, 3, {S2(65, 2), S2(65, 2), S2(65, 2)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL}, {true, true, true}, 0, 1e-5},
    {"similarity", {.count = 10}, 2, {S2(65, 84), S1(65)}, LAB, GX, 10, 1e-4},
    {"similarity", {.count = 3}, 2, {S2(7, 2), S1(7)}, LAB, GX, 3, 1e-5},
    {"similarity", {.count = 10}, 3, {S2(65, 84), S1(65), S1(65)},
     {CG_GEN_NORMAL, CG_GEN_LABELS, CG_GEN_LABELS}, GX, 4, 1e-4},
    {"similarity", {.count = 3}, 3, {S2(9, 3), S1(9), S1(9)}, {CG_GEN_NORMAL, CG_GEN_LABELS, CG_GEN_LABELS},
     GX, 3, 1e-5},
    {"kl_normal", {0}, 2, {S2(65, 30), S2(65, 30)}, N2, G2, 0, 1e-5},
    {"kl_sample", {0}, 3, {S2(65, 30), S2(65, 30), S2(65, 30)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL}, {true, true, true}, 0, 1e-5},
    {"kl_sample", {0}, 3, {S2(1, 3), S2(1, 3), S2(1, 3)}, {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL},
     {false, true, true}, 0, 1e-5},
    {"gaussian_nll", {.alpha = 0.5f}, 2, {S2(65, 30), S2(65, 30)}, {CG_GEN_UNIT, CG_GEN_UNIT}, GX, 0,
     1e-5},
    {"gaussian_nll", {.alpha = 2.0f}, 2, {S4(3, 1, 7, 7), S4(3, 1, 7, 7)}, N2, G2, 0, 1e-5},
    {"accuracy", {0}, 2, {S2(65, 10), S1(65)}, LAB, {false}, 10, 0},
    {"accuracy", {0}, 2, {S2(1, 3), S1(1)}, LAB, {false}, 3, 0},
    {"cool_confidence", {.count = 3}, 1, {S2(7, 30)}, N1, {false}, 0, 1e-4},
    {"accuracy", {.thresholded = true, .threshold = 0.5f}, 2, {S2(65, 10), S1(65)}, LAB,
     {false}, 10, 0},
    {"mul", {0}, 2, {S2(65, 10), S1(65)}, N2, G2, 0, 1e-5},
    {"pick", {0}, 2, {S2(65, 10), S1(65)}, LAB, {false}, 10, 1e-6},
    {"max", {0}, 1, {S2(65, 10)}, N1, {false}, 0, 0},
    {"max", {0}, 1, {S2(3, 1)}, N1, {false}, 0, 0},
    {"per_sample_linear", {.features = 7, .bias = true}, 1, {S2(5, 13)}, N1, G1, 0, 1e-4},
    {"per_sample_linear", {.features = 3, .bias = false}, 1, {S2(1, 4)}, N1, G1, 0, 1e-4},
    {"mul", {0}, 2, {S4(3, 2, 5, 5), S2(3, 1)}, N2, G2, 0, 1e-5},
    {"probe", {.alpha = 0.25f, .count = 3}, 1, {S4(5, 1, 7, 7)}, N1, G1, 0, 1e-5},
    {"probe", {.alpha = 0.5f, .basis = true}, 1, {S2(4, 3)}, N1, G1, 0, 1e-5},
    {"probe", {.alpha = 0.5f, .count = 1}, 1, {S2(4, 3)}, N1, G1, 0, 1e-5, true},
    {"jacobian_trace", {0}, 4, {S2(5, 12), S2(15, 12), S2(5, 12), S2(15, 12)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL}, {false}, 0, 1e-4},
    {"jacobian_trace", {0}, 4, {S4(2, 1, 4, 4), S4(2, 1, 4, 4), S2(2, 16), S2(2, 16)},
     {CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL, CG_GEN_NORMAL}, {false}, 0, 1e-4},
    {"dae_confidence", {.alpha = 20.0f, .beta = 10.0f}, 3, {S2(7, 12), S2(7, 12), S1(7)},
     {CG_GEN_UNIT, CG_GEN_UNIT, CG_GEN_TRACE}, {false}, 0, 1e-5},

    /* ---- the seed models' shapes, for `clgraph bench --ops` (too large for the CPU
     * reference's finite differences; the tests run the rows above) ---- */
    BENCH_CONV(64, 3, 32, 32, 6, 5, true, "lenet conv1"),
    BENCH_CONV(256, 3, 32, 32, 6, 5, true, "lenet conv1"),
    BENCH_CONV(64, 6, 14, 14, 16, 5, false, "lenet conv2"),
    BENCH_CONV(256, 6, 14, 14, 16, 5, false, "lenet conv2"),
    BENCH_CONV(64, 1, 28, 28, 16, 5, true, "siamese conv1"),
    BENCH_CONV(256, 1, 28, 28, 16, 5, true, "siamese conv1"),
    BENCH_CONV(64, 16, 12, 12, 64, 3, false, "siamese conv2"),
    BENCH_CONV(256, 16, 12, 12, 64, 3, false, "siamese conv2"),
    BENCH_CONV(64, 1, 14, 14, 32, 3, true, "compare conv1"),
    BENCH_CONV(256, 1, 14, 14, 32, 3, true, "compare conv1"),
    BENCH_CONV(64, 32, 6, 6, 64, 3, false, "compare conv2"),
    BENCH_CONV(256, 32, 6, 6, 64, 3, false, "compare conv2"),
    BENCH_CONV(64, 1, 28, 28, 32, 5, true, "dae conv1"),
    BENCH_CONV(256, 1, 28, 28, 32, 5, true, "dae conv1"),
    BENCH_CONV(64, 32, 12, 12, 64, 5, false, "dae conv2"),
    BENCH_CONV(256, 32, 12, 12, 64, 5, false, "dae conv2"),
    {"linear", {.features = 120, .bias = true}, 1, {S2(256, 400)}, N1, G1, 0, 0, false, true,
     "lenet fc1"},
    {"linear", {.features = 256, .bias = true}, 1, {S2(256, 1600)}, N1, G1, 0, 0, false, true,
     "siamese fc1"},
    {"linear", {.features = 400, .bias = true}, 1, {S2(256, 1024)}, N1, G1, 0, 0, false, true,
     "vae enc1"},
    {"maxpool2d", {.kernel = {2, 2}}, 1, {S4(256, 6, 28, 28)}, N1, G1, 0, 0, false, true,
     "lenet pool1"},
    {"relu", {0}, 1, {S4(256, 6, 28, 28)}, N1, G1, 0, 0, false, true, "lenet relu1"},
    {"cross_entropy", {0}, 2, {S2(256, 10), S1(256)}, LAB, GX, 10, 0, false, true, "lenet loss"},
};

const cg_op_case *cg_op_case_at(size_t i) {
    return i < sizeof cases / sizeof cases[0] ? &cases[i] : NULL;
}

size_t cg_op_case_count(void) {
    return sizeof cases / sizeof cases[0];
}

bool cg_op_case_has_bench_row(const char *op) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cases[i].bench && strcmp(cases[i].op, op) == 0)
            return true;
    return false;
}

float cg_op_case_value(cg_case_gen kind, int label_range, uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    *state = x;
    float u = ((float)(x >> 8) + 0.5f) / 16777216.0f; /* (0, 1) */
    return kind == CG_GEN_LABELS   ? (float)(x % (uint32_t)(label_range > 0 ? label_range : 1))
           : kind == CG_GEN_BINARY ? (float)(x & 1)
           : kind == CG_GEN_UNIT   ? u
           : kind == CG_GEN_TRACE  ? 12 + 6 * (u - 0.5f)
                                   : 2 * u - 1;
}

float *cg_op_case_draw(size_t n, cg_case_gen kind, int label_range, uint32_t *state) {
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = cg_op_case_value(kind, label_range, state);
    return v;
}

cg_status cg_op_case_shapes(const cg_op_case *c, cg_dtype types[CG_MAX_INPUTS],
                            cg_op_shapes *out) {
    memset(out, 0, sizeof *out);
    const cg_op_def *op = cg_op_find(c->op);
    if (!op)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "op case of an unknown op '%s'", c->op);
    for (int i = 0; i < CG_MAX_INPUTS; i++)
        types[i] = i < c->n_in && c->gen[i] == CG_GEN_LABELS ? CG_I32 : CG_F32;
    return op->infer(&c->attrs, c->shape, types, c->n_in, out);
}
