/* The YAML layer table (see layers.h). Keys follow PyTorch's argument names where they exist:
 * `out` for out_features / out_channels, `kernel`, `stride`, `padding`, `p` for dropout. */
#include <stdio.h>
#include <string.h>

#include "core/common.h"
#include "exp/layers.h"

/* What a key sets. */
typedef enum key_kind {
    K_OUT,      /* features (out features or channels), required */
    K_KERNEL,   /* kernel: n or [h, w], required */
    K_STRIDE,   /* stride: n or [h, w] */
    K_PADDING,  /* padding: n or [h, w] */
    K_BIAS,     /* bias: true | false (default true) */
    K_ALGO,     /* algo: auto | im2col | direct */
    K_FACTOR,   /* factor: n, required */
    K_ALPHA,    /* a float into alpha (slope, p, std, margin, init, by) */
    K_COUNT,    /* an int into count (prelu channels, classes, omega) */
    K_CLAMP,    /* clamp: true | false */
    K_SHAPE,    /* shape: [..] per sample */
    K_START,    /* start: channel */
    K_LENGTH,   /* count: channels */
    K_SAMPLE,   /* sample: training | always | never */
    K_BETA,     /* a float into beta */
    K_THRESHOLD, /* threshold: a float; the op then applies it */
    K_BASIS,    /* basis: true | false */
} key_kind;

typedef struct key_spec {
    const char *key;
    key_kind kind;
    bool required;
    float dflt; /* default for K_ALPHA / K_COUNT / K_BETA */
} key_spec;

typedef struct layer_row {
    const char *type;
    const char *op;
    key_spec keys[5];
} layer_row;

static const layer_row rows[] = {
    {"linear", "linear", {{"out", K_OUT, true, 0}, {"bias", K_BIAS, false, 0}}},
    {"conv2d", "conv2d",
     {{"out", K_OUT, true, 0}, {"kernel", K_KERNEL, true, 0}, {"stride", K_STRIDE, false, 0},
      {"padding", K_PADDING, false, 0}, {"bias", K_BIAS, false, 0}}},
    {"conv_transpose2d", "conv_transpose2d",
     {{"out", K_OUT, true, 0}, {"kernel", K_KERNEL, true, 0}, {"stride", K_STRIDE, false, 0},
      {"padding", K_PADDING, false, 0}, {"bias", K_BIAS, false, 0}}},
    {"maxpool2d", "maxpool2d", {{"kernel", K_KERNEL, true, 0}, {"stride", K_STRIDE, false, 0}}},
    {"avgpool2d", "avgpool2d", {{"kernel", K_KERNEL, true, 0}, {"stride", K_STRIDE, false, 0}}},
    {"upsample", "upsample", {{"factor", K_FACTOR, true, 0}}},
    {"flatten", "flatten", {{NULL, 0, 0, 0}}},
    {"reshape", "reshape", {{"shape", K_SHAPE, true, 0}}},
    {"relu", "relu", {{NULL, 0, 0, 0}}},
    {"leaky_relu", "leaky_relu", {{"slope", K_ALPHA, false, 0.01f}}},
    {"prelu", "prelu", {{"channels", K_COUNT, false, 1}, {"init", K_ALPHA, false, 0.25f}}},
    {"tanh", "tanh", {{NULL, 0, 0, 0}}},
    {"sigmoid", "sigmoid", {{NULL, 0, 0, 0}}},
    {"softmax", "softmax", {{NULL, 0, 0, 0}}},
    {"log_softmax", "log_softmax", {{NULL, 0, 0, 0}}},
    {"dropout", "dropout", {{"p", K_ALPHA, false, 0.5f}}},
    {"gaussian_noise", "gaussian_noise",
     {{"std", K_ALPHA, true, 0}, {"clamp", K_CLAMP, false, 0}}},
    {"scale", "scale", {{"by", K_ALPHA, true, 0}}},
    {"slice", "slice", {{"start", K_START, true, 0}, {"count", K_LENGTH, true, 0}}},
    {"concat", "concat", {{NULL, 0, 0, 0}}},
    {"add", "add", {{NULL, 0, 0, 0}}},
    {"reparameterize", "reparameterize", {{"sample", K_SAMPLE, false, 0}}},
    {"accuracy", "accuracy", {{"threshold", K_THRESHOLD, false, 0}}},
    {"mul", "mul", {{NULL, 0, 0, 0}}},
    {"pick", "pick", {{NULL, 0, 0, 0}}},
    {"max", "max", {{NULL, 0, 0, 0}}},
    {"per_sample_linear", "per_sample_linear",
     {{"out", K_OUT, true, 0}, {"bias", K_BIAS, false, 0}}},
    {"probe", "probe",
     {{"eps", K_ALPHA, false, 1e-3f}, {"count", K_COUNT, false, 1}, {"basis", K_BASIS, false, 0}}},
    {"jacobian_trace", "jacobian_trace", {{NULL, 0, 0, 0}}},
    {"dae_confidence", "dae_confidence",
     {{"alpha", K_ALPHA, true, 0}, {"beta", K_BETA, false, 10.0f}}},
    {"cool_confidence", "cool_confidence", {{"omega", K_COUNT, true, 0}}},
    /* losses */
    {"cross_entropy", "cross_entropy", {{NULL, 0, 0, 0}}},
    {"binary_cross_entropy", "binary_cross_entropy", {{NULL, 0, 0, 0}}},
    {"mse", "mse", {{NULL, 0, 0, 0}}},
    {"contrastive", "contrastive", {{"margin", K_ALPHA, false, 1.0f}}},
    {"triplet", "triplet", {{"margin", K_ALPHA, false, 1.0f}}},
    {"similarity", "similarity", {{"classes", K_COUNT, true, 0}}},
    {"kl_normal", "kl_normal", {{NULL, 0, 0, 0}}},
    {"kl_sample", "kl_sample", {{NULL, 0, 0, 0}}},
    {"gaussian_nll", "gaussian_nll", {{"variance", K_ALPHA, false, 1.0f}}},
    {"cool", "cool", {{"omega", K_COUNT, true, 0}}},
};

const char *cg_exp_layer_types(void) {
    static char list[1024];
    if (!list[0]) {
        size_t used = 0;
        for (size_t i = 0; i < CG__ARRAY_LEN(rows); i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     rows[i].type);
    }
    return list;
}

/* n or [h, w] into out[2]. */
static cg_status pair(const cg_ydoc *doc, const cg_ynode *v, const char *key, long lo, int *out) {
    long a = 0, b = 0;
    if (v->kind == CG_YSEQ) {
        if (v->n != 2)
            return cg_yerror(doc, v, "'%s' takes one number or two [height, width], not %d", key,
                             v->n);
        cg_status st = cg_yget_int(doc, v->items[0], key, lo, 4096, &a);
        if (st == CG_OK)
            st = cg_yget_int(doc, v->items[1], key, lo, 4096, &b);
        out[0] = (int)a, out[1] = (int)b;
        return st;
    }
    cg_status st = cg_yget_int(doc, v, key, lo, 4096, &a);
    out[0] = out[1] = (int)a;
    return st;
}

static cg_status apply(const cg_ydoc *doc, const cg_ynode *v, const key_spec *k,
                       cg_op_attrs *a) {
    long n;
    double f;
    cg_status st = CG_OK;
    switch (k->kind) {
    case K_OUT:
        st = cg_yget_int(doc, v, k->key, 1, 1 << 20, &n);
        a->features = (int)n;
        break;
    case K_KERNEL:
        st = pair(doc, v, k->key, 1, a->kernel);
        break;
    case K_STRIDE:
        st = pair(doc, v, k->key, 1, a->stride);
        break;
    case K_PADDING:
        st = pair(doc, v, k->key, 0, a->pad);
        break;
    case K_BIAS:
        st = cg_yget_bool(doc, v, k->key, &a->bias);
        break;
    case K_ALGO:
        break;
    case K_FACTOR:
        st = cg_yget_int(doc, v, k->key, 1, 64, &n);
        a->factor = (int)n;
        break;
    case K_ALPHA:
        st = cg_yget_float(doc, v, k->key, &f);
        a->alpha = (float)f;
        break;
    case K_COUNT:
        st = cg_yget_int(doc, v, k->key, 1, 1 << 20, &n);
        a->count = (int)n;
        break;
    case K_CLAMP:
        st = cg_yget_bool(doc, v, k->key, &a->clamp);
        break;
    case K_BASIS:
        st = cg_yget_bool(doc, v, k->key, &a->basis);
        break;
    case K_BETA:
        st = cg_yget_float(doc, v, k->key, &f);
        a->beta = (float)f;
        break;
    case K_THRESHOLD:
        st = cg_yget_float(doc, v, k->key, &f);
        a->threshold = (float)f;
        a->thresholded = true;
        break;
    case K_SAMPLE: {
        static const char *const when[] = {"training", "always", "never"};
        char w[16];
        st = cg_yget_choice(doc, v, k->key, when, 3, w, sizeof w);
        a->sample = st != CG_OK ? CG_SAMPLE_TRAINING
                    : !strcmp(w, "always") ? CG_SAMPLE_ALWAYS
                    : !strcmp(w, "never")  ? CG_SAMPLE_NEVER
                                           : CG_SAMPLE_TRAINING;
        break;
    }
    case K_SHAPE:
        if (v->kind != CG_YSEQ || v->n > CG_MAX_DIMS - 1)
            return cg_yerror(doc, v, "'shape' is a list of up to %d sizes per sample, such as "
                                     "[64, 4, 4], or [] for one number per sample",
                             CG_MAX_DIMS - 1);
        a->target.ndim = v->n + 1;
        a->target.d[0] = -1; /* the batch */
        for (int i = 0; i < v->n && st == CG_OK; i++) {
            st = cg_yget_int(doc, v->items[i], "shape", 1, 1 << 24, &n);
            a->target.d[i + 1] = (int)n;
        }
        break;
    case K_START:
        st = cg_yget_int(doc, v, k->key, 0, 1 << 20, &n);
        a->slice[0] = (int)n;
        break;
    case K_LENGTH:
        st = cg_yget_int(doc, v, k->key, 1, 1 << 20, &n);
        a->slice[1] = (int)n;
        break;
    }
    return st;
}

static const layer_row *find_row(const char *type) {
    for (size_t i = 0; i < CG__ARRAY_LEN(rows); i++)
        if (strcmp(rows[i].type, type) == 0)
            return &rows[i];
    return NULL;
}

static cg_status unknown_type(const cg_ydoc *doc, const cg_ynode *node, const char *type) {
    const char *names[CG__ARRAY_LEN(rows)];
    for (size_t i = 0; i < CG__ARRAY_LEN(rows); i++)
        names[i] = rows[i].type;
    const char *close = cg__closest(type, names, CG__ARRAY_LEN(rows));
    if (close)
        return cg_yerror(doc, node, "unknown layer type '%s' — did you mean '%s'?", type, close);
    return cg_yerror(doc, node, "unknown layer type '%s'; the types are: %s", type,
                     cg_exp_layer_types());
}

cg_status cg_exp_read_layer(const cg_ydoc *doc, const cg_ynode *node, const char *const *extra,
                            const cg_op_def **op, cg_op_attrs *attrs, char *name, size_t cap) {
    memset(attrs, 0, sizeof *attrs);
    attrs->bias = true;
    name[0] = '\0';
    const cg_ynode *type_node = node;
    if (node->kind == CG_YMAP) {
        type_node = cg_ymap_get(node, "type");
        if (!type_node)
            return cg_yerror(doc, node, "a layer needs 'type:' (one of: %s)", cg_exp_layer_types());
    }
    if (type_node->kind != CG_YSCALAR)
        return cg_yerror(doc, type_node, "a layer is a type name such as relu, or a mapping with "
                                         "type: and its settings");
    const layer_row *row = find_row(type_node->value);
    if (!row)
        return unknown_type(doc, type_node, type_node->value);
    *op = cg_op_find(row->op);
    for (size_t k = 0; k < CG__ARRAY_LEN(row->keys) && row->keys[k].key; k++) {
        if (row->keys[k].kind == K_ALPHA)
            attrs->alpha = row->keys[k].dflt;
        if (row->keys[k].kind == K_COUNT)
            attrs->count = (int)row->keys[k].dflt;
        if (row->keys[k].kind == K_BETA)
            attrs->beta = row->keys[k].dflt;
    }
    if (node->kind != CG_YMAP) {
        for (size_t k = 0; k < CG__ARRAY_LEN(row->keys) && row->keys[k].key; k++)
            if (row->keys[k].required)
                return cg_yerror(doc, node, "%s needs '%s:'; write it as {type: %s, %s: ...}",
                                 row->type, row->keys[k].key, row->type, row->keys[k].key);
        return CG_OK;
    }
    const char *known[24];
    size_t n_known = 0;
    known[n_known++] = "type";
    known[n_known++] = "name";
    for (size_t k = 0; k < CG__ARRAY_LEN(row->keys) && row->keys[k].key; k++)
        known[n_known++] = row->keys[k].key;
    if (strcmp(row->type, "conv2d") == 0)
        known[n_known++] = "algo";
    for (size_t k = 0; extra && extra[k] && n_known < CG__ARRAY_LEN(known); k++)
        known[n_known++] = extra[k];
    char what[64];
    snprintf(what, sizeof what, "this %s layer", row->type);
    cg_status st = cg_ycheck_keys(doc, node, what, known, n_known);
    for (size_t k = 0; st == CG_OK && k < CG__ARRAY_LEN(row->keys) && row->keys[k].key; k++) {
        const cg_ynode *v = cg_ymap_get(node, row->keys[k].key);
        if (v)
            st = apply(doc, v, &row->keys[k], attrs);
        else if (row->keys[k].required)
            st = cg_yerror(doc, node, "%s needs '%s:'", row->type, row->keys[k].key);
    }
    const cg_ynode *algo = cg_ymap_get(node, "algo");
    if (st == CG_OK && algo) {
        static const char *const algos[] = {"auto", "im2col", "direct"};
        char a[16];
        st = cg_yget_choice(doc, algo, "algo", algos, 3, a, sizeof a);
        attrs->conv_algo = a[0] == 'i' ? CG_CONV_IM2COL : a[0] == 'd' ? CG_CONV_DIRECT : CG_CONV_AUTO;
    }
    const cg_ynode *nm = cg_ymap_get(node, "name");
    if (st == CG_OK && nm)
        st = cg_yget_str(doc, nm, "name", name, cap);
    return st;
}
