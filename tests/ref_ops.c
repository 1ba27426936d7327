/* CPU references in double precision (see ref_ops.h). */
#include <math.h>
#include <string.h>

#include "ref_ops.h"

size_t ref_numel(const cg_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= (size_t)s->d[i];
    return n;
}

/* ---- element-wise ---- */

static size_t nout(const ref_io *io) {
    return ref_numel(&io->out_shape);
}

static void relu_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] > 0 ? io->in[0][i] : 0;
}
static void relu_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->in[0][i] > 0 ? io->dout[i] : 0;
}
static void leaky_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        io->out[i] = x > 0 ? x : io->a->alpha * x;
    }
}
static void leaky_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->in[0][i] > 0 ? io->dout[i] : io->a->alpha * io->dout[i];
}

static size_t prelu_slope(const ref_io *io, size_t i) {
    if (io->a->count == 1)
        return 0;
    size_t inner = 1;
    for (int d = 2; d < io->out_shape.ndim; d++)
        inner *= (size_t)io->out_shape.d[d];
    return (i / inner) % (size_t)io->out_shape.d[1];
}
static void prelu_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        io->out[i] = x > 0 ? x : io->params[0][prelu_slope(io, i)] * x;
    }
}
static void prelu_b(ref_io *io) {
    memset(io->dparams[0], 0, (size_t)io->a->count * sizeof(double));
    for (size_t i = 0; i < nout(io); i++) {
        double x = io->in[0][i];
        size_t s = prelu_slope(io, i);
        if (io->din[0])
            io->din[0][i] = x > 0 ? io->dout[i] : io->params[0][s] * io->dout[i];
        if (x <= 0)
            io->dparams[0][s] += io->dout[i] * x;
    }
}
static void tanh_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = tanh(io->in[0][i]);
}
static void tanh_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double y = tanh(io->in[0][i]);
        io->din[0][i] = io->dout[i] * (1 - y * y);
    }
}
static void sigmoid_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = 1 / (1 + exp(-io->in[0][i]));
}
static void sigmoid_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++) {
        double y = 1 / (1 + exp(-io->in[0][i]));
        io->din[0][i] = io->dout[i] * y * (1 - y);
    }
}
static void add_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->in[0][i] + io->in[1][i];
}
static void add_b(ref_io *io) {
    for (int k = 0; k < 2; k++)
        if (io->din[k])
            memcpy(io->din[k], io->dout, nout(io) * sizeof(double));
}
static void scale_f(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->out[i] = io->a->alpha * io->in[0][i];
}
static void scale_b(ref_io *io) {
    for (size_t i = 0; i < nout(io); i++)
        io->din[0][i] = io->a->alpha * io->dout[i];
}

static const ref_op table[] = {
    {"relu", relu_f, relu_b},          {"leaky_relu", leaky_f, leaky_b},
    {"prelu", prelu_f, prelu_b},       {"tanh", tanh_f, tanh_b},
    {"sigmoid", sigmoid_f, sigmoid_b}, {"add", add_f, add_b},
    {"scale", scale_f, scale_b},
};

const ref_op *ref_find(const char *name) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}
