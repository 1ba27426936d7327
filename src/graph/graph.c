/* The graph executor (see graph.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

typedef struct value {
    char name[96];
    cg_shape shape;
    cg_dtype dtype;
    int producer; /* node index, -1 for inputs */
    bool requires_grad; /* asked for by the caller (an input, or any value) */
    bool needs_grad;
    cl_mem mem, grad;
    size_t act_off, grad_off; /* bytes into the arenas */
    int grad_birth, grad_death;
} value;

typedef struct node {
    char name[96];
    const cg_op_def *op;
    cg_op_attrs attrs;
    int n_in, in[CG_MAX_INPUTS], n_params, params[CG_MAX_PARAMS], out;
    size_t scratch_bytes;
    int loss_elements;
    bool is_loss;
    float loss_weight;
    cg_reduction reduction;
    int loss_slot, metric_slot;
    int mask, count_slot; /* a masked metric: its mask value and the slot counting the mask */
    bool din_acc[CG_MAX_INPUTS]; /* backward adds into this input's gradient */
    bool run_backward;
    /* What backward must reuse of the node's latest forward: its random-number counter and its
     * mode, so a forward in between (an evaluation) cannot change the draws or the mode that
     * backward differentiates. */
    bool ran_forward, fwd_training;
    uint32_t fwd_counter;
    bool skip; /* left out of forward passes by cg_graph_run_only */
    /* A view (flatten, reshape) whose output shares its input's bytes (alias: its forward
     * launches nothing) and gradient (alias_grad: nor its backward); see plan_aliases. */
    bool alias, alias_grad;
} node;

typedef struct param {
    char name[96];
    cg_shape shape;
    int init, fan_in, group;
    float constant;
    size_t offset; /* floats */
    cl_mem view, grad_view;
} param;

#define MAX_GROUPS 16

struct cg_graph {
    cg_context *ctx;
    int batch;
    value values[CG_GRAPH_MAX_VALUES];
    int n_values;
    node nodes[CG_GRAPH_MAX_VALUES];
    int n_nodes;
    param params[CG_GRAPH_MAX_PARAMS];
    int n_params;
    int n_slots;
    float group_scale[MAX_GROUPS];
    size_t param_floats; /* padded length of the flat buffers */
    cl_mem param_buf, grad_buf, opt_state, act_arena, grad_arena, scratch, acc, hits;
    size_t opt_state_floats;
    cg_optim_kind opt_kind;
    bool compiled;
    bool inference; /* no gradient buffers: forward only */
    uint64_t step;
    uint32_t seed[2];
    uint32_t launch; /* the random-number counter of the current forward/backward pair */
    int valid_rows;  /* 0: the whole batch counts */
    /* The numbers that change from step to step, on the device, so that a step's launches are
     * the same every time: the counter base (launch) and the optimizer's (cg__optim_words);
     * words_host is what the device holds (valid once words_set). */
    cl_mem words;
    uint32_t words_host[4];
    bool words_set;
    cg__replay *replay; /* the training step's recording (NULL: steps do not replay) */
    unsigned train_steps;
};

static size_t align_up(size_t x, size_t a) {
    return (x + a - 1) / a * a;
}

cg_status cg_graph_create(cg_context *ctx, int batch, cg_graph **out) {
    *out = NULL;
    if (batch < 1)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "batch size %d; it must be at least 1", batch);
    cg_graph *g = calloc(1, sizeof *g);
    if (!g)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a graph");
    g->ctx = ctx;
    g->batch = batch;
    g->n_slots = 1; /* slot 0: the weighted loss total */
    for (int i = 0; i < MAX_GROUPS; i++)
        g->group_scale[i] = 1.0f;
    *out = g;
    return CG_OK;
}

void cg_graph_destroy(cg_graph *g) {
    if (!g)
        return;
    for (int i = 0; i < g->n_values; i++) {
        if (g->values[i].mem)
            clReleaseMemObject(g->values[i].mem);
        if (g->values[i].grad)
            clReleaseMemObject(g->values[i].grad);
    }
    for (int i = 0; i < g->n_params; i++) {
        if (g->params[i].view)
            clReleaseMemObject(g->params[i].view);
        if (g->params[i].grad_view)
            clReleaseMemObject(g->params[i].grad_view);
    }
    cg__replay_free(g->ctx, g->replay);
    cl_mem bufs[] = {g->param_buf, g->grad_buf, g->opt_state, g->act_arena, g->grad_arena,
                     g->scratch,   g->acc,      g->hits,      g->words};
    for (size_t i = 0; i < CG__ARRAY_LEN(bufs); i++)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    free(g);
}

static cg_status not_compiled(const cg_graph *g, const char *what) {
    if (g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s after the graph was compiled", what);
    return CG_OK;
}

static cg_status add_value(cg_graph *g, const char *name, cg_shape shape, cg_dtype dtype,
                           int producer, int *out) {
    if (g->n_values == CG_GRAPH_MAX_VALUES)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "more than %d values in one graph",
                         CG_GRAPH_MAX_VALUES);
    value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    cg__copy_str(v->name, sizeof v->name, name);
    v->shape = shape;
    v->dtype = dtype;
    v->producer = producer;
    *out = g->n_values++;
    return CG_OK;
}

cg_status cg_graph_input(cg_graph *g, const char *name, const cg_shape *sample_shape,
                         cg_dtype dtype, int *out) {
    cg_status st = not_compiled(g, "adding an input");
    if (st != CG_OK)
        return st;
    if (sample_shape->ndim >= CG_MAX_DIMS)
        return cg__error(CG_ERR_SHAPE, "input %s: at most %d dims per sample", name,
                         CG_MAX_DIMS - 1);
    cg_shape s = {sample_shape->ndim + 1, {g->batch, 0, 0, 0}};
    for (int i = 0; i < sample_shape->ndim; i++)
        s.d[i + 1] = sample_shape->d[i];
    return add_value(g, name, s, dtype, -1, out);
}

cg_status cg_graph_param(cg_graph *g, const char *name, const cg_shape *shape, int init,
                         int fan_in, float constant, int group, int *out) {
    cg_status st = not_compiled(g, "adding a parameter");
    if (st != CG_OK)
        return st;
    if (g->n_params == CG_GRAPH_MAX_PARAMS)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "more than %d parameters in one graph",
                         CG_GRAPH_MAX_PARAMS);
    if (group < 0 || group >= MAX_GROUPS)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "parameter group %d; use 0 to %d", group,
                         MAX_GROUPS - 1);
    param *p = &g->params[g->n_params];
    memset(p, 0, sizeof *p);
    cg__copy_str(p->name, sizeof p->name, name);
    p->shape = *shape;
    p->init = init;
    p->fan_in = fan_in > 0 ? fan_in : 1;
    p->constant = constant;
    p->group = group;
    *out = g->n_params++;
    return CG_OK;
}

/* The op's shape rule on the shapes and types of the input values; errors name the node. */
static cg_status infer(const cg_graph *g, const char *name, const cg_op_def *op,
                       const cg_op_attrs *attrs, const int *inputs, int n_inputs,
                       cg_op_shapes *sh) {
    cg_shape shapes[CG_MAX_INPUTS];
    cg_dtype types[CG_MAX_INPUTS];
    if (n_inputs > CG_MAX_INPUTS)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s: %d inputs; at most %d", name, n_inputs,
                         CG_MAX_INPUTS);
    for (int i = 0; i < n_inputs; i++) {
        if (inputs[i] < 0 || inputs[i] >= g->n_values)
            return cg__error(CG_ERR_INVALID_ARGUMENT, "%s: input %d is no value", name, i);
        shapes[i] = g->values[inputs[i]].shape;
        types[i] = g->values[inputs[i]].dtype;
    }
    memset(sh, 0, sizeof *sh);
    cg_status st = op->infer(attrs, shapes, types, n_inputs, sh);
    return st == CG_OK ? st : cg__error_prefix(st, "%s", name);
}

cg_status cg_graph_node(cg_graph *g, const char *name, const cg_op_def *op,
                        const cg_op_attrs *attrs, const int *inputs, int n_inputs,
                        const int *params, int n_params, int *out) {
    cg_status st = not_compiled(g, "adding a node");
    if (st != CG_OK)
        return st;
    if (n_inputs < op->min_inputs || n_inputs > op->max_inputs)
        return cg__error(CG_ERR_SHAPE, "%s: %s takes %d to %d inputs, not %d", name, op->name,
                         op->min_inputs, op->max_inputs, n_inputs);
    cg_op_shapes sh;
    st = infer(g, name, op, attrs, inputs, n_inputs, &sh);
    if (st != CG_OK)
        return st;
    if (sh.n_params != n_params)
        return cg__error(CG_ERR_SHAPE, "%s: %s needs %d parameters, %d given", name, op->name,
                         sh.n_params, n_params);
    for (int i = 0; i < n_params; i++) {
        const param *p = &g->params[params[i]];
        if (!cg_shape_equal(&p->shape, &sh.params[i])) {
            char want[64], have[64];
            cg_shape_str(&sh.params[i], want, sizeof want);
            cg_shape_str(&p->shape, have, sizeof have);
            return cg__error(CG_ERR_SHAPE,
                             "%s: parameter %s has shape %s but this use needs %s (a shared "
                             "module must see inputs of one shape)",
                             name, p->name, have, want);
        }
    }
    if (g->n_nodes == CG_GRAPH_MAX_VALUES)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "more than %d nodes", CG_GRAPH_MAX_VALUES);
    int v = -1;
    st = add_value(g, name, sh.out, sh.out_dtype, g->n_nodes, &v);
    if (st != CG_OK)
        return st;
    node *n = &g->nodes[g->n_nodes++];
    memset(n, 0, sizeof *n);
    cg__copy_str(n->name, sizeof n->name, name);
    n->op = op;
    n->attrs = *attrs;
    n->n_in = n_inputs;
    if (n_inputs) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(n->in, inputs, (size_t)n_inputs * sizeof *inputs);
    n->n_params = n_params;
    if (n_params)
        memcpy(n->params, params, (size_t)n_params * sizeof *params);
    n->out = v;
    n->scratch_bytes = sh.scratch_bytes;
    n->loss_elements = sh.loss_elements > 0 ? sh.loss_elements : 1;
    n->loss_slot = n->metric_slot = n->mask = n->count_slot = -1;
    *out = v;
    return CG_OK;
}

cg_status cg_graph_layer(cg_graph *g, const char *name, const cg_op_def *op,
                         const cg_op_attrs *attrs, const int *inputs, int n_inputs, int group,
                         int *out, int *param_slots, int *n_slots) {
    cg_op_shapes sh;
    cg_status st = infer(g, name, op, attrs, inputs, n_inputs, &sh);
    if (st != CG_OK)
        return st;
    int slots[CG_MAX_PARAMS];
    for (int i = 0; i < sh.n_params; i++) {
        char pname[128];
        bool bias = i == 1;
        snprintf(pname, sizeof pname, "%s.%s", name, bias ? "bias" : "weight");
        /* PyTorch's fan-in: the weight's size(1) times its kernel area. */
        const cg_shape *w = &sh.params[0];
        int fan_in = w->ndim >= 2 ? w->d[1] : 1;
        for (int d = 2; d < w->ndim; d++)
            fan_in *= w->d[d];
        if (strcmp(op->name, "per_sample_linear") == 0) /* (N, out, in): each sample's layer */
            fan_in = w->d[2];
        int init = strcmp(op->name, "prelu") == 0 ? CG_INIT_CONSTANT
                   : bias                         ? CG_INIT_BIAS_UNIFORM
                                                  : CG_INIT_KAIMING_UNIFORM;
        float constant = attrs->alpha != 0.0f ? attrs->alpha : 0.25f;
        st = cg_graph_param(g, pname, &sh.params[i], init, fan_in, constant, group, &slots[i]);
        if (st != CG_OK)
            return st;
        if (param_slots)
            param_slots[i] = slots[i];
    }
    if (n_slots)
        *n_slots = sh.n_params;
    return cg_graph_node(g, name, op, attrs, inputs, n_inputs, slots, sh.n_params, out);
}

static node *producer_of(cg_graph *g, int value, const char *what) {
    if (value < 0 || value >= g->n_values || g->values[value].producer < 0) {
        cg__error(CG_ERR_INVALID_ARGUMENT, "%s: value %d is not the output of a node", what,
                  value);
        return NULL;
    }
    return &g->nodes[g->values[value].producer];
}

static cg_status take_slot(cg_graph *g, int *slot) {
    if (g->n_slots == CG_GRAPH_ACC_SLOTS)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "more than %d losses and metrics",
                         CG_GRAPH_ACC_SLOTS - 1);
    *slot = g->n_slots++;
    return CG_OK;
}

cg_status cg_graph_loss(cg_graph *g, int value, float weight, cg_reduction reduction,
                        int *slot) {
    node *n = producer_of(g, value, "a loss");
    if (!n)
        return CG_ERR_INVALID_ARGUMENT;
    if (!n->op->is_loss)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s (%s) is not a loss", n->name, n->op->name);
    cg_status st = take_slot(g, &n->loss_slot);
    n->is_loss = true;
    n->loss_weight = weight;
    n->reduction = reduction;
    if (slot)
        *slot = n->loss_slot;
    return st;
}

cg_status cg_graph_metric(cg_graph *g, int value, int *slot) {
    return cg_graph_metric_masked(g, value, -1, slot, NULL);
}

cg_status cg_graph_metric_masked(cg_graph *g, int val, int mask, int *slot, int *count_slot) {
    node *n = producer_of(g, val, "a metric");
    if (!n)
        return CG_ERR_INVALID_ARGUMENT;
    if (n->metric_slot >= 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s is already a metric", n->name);
    if (mask >= 0) {
        if (mask >= g->n_values)
            return cg__error(CG_ERR_INVALID_ARGUMENT, "a metric's mask %d is no value", mask);
        const value *m = &g->values[mask], *o = &g->values[n->out];
        if (m->shape.ndim != 1 || m->shape.d[0] != o->shape.d[0]) {
            char ms[64];
            cg_shape_str(&m->shape, ms, sizeof ms);
            return cg__error(CG_ERR_SHAPE, "%s: the mask %s has shape %s; a mask holds one "
                                           "val per sample (%d)",
                             n->name, m->name, ms, o->shape.d[0]);
        }
    }
    cg_status st = take_slot(g, &n->metric_slot);
    if (st == CG_OK && mask >= 0)
        st = take_slot(g, &n->count_slot);
    n->mask = st == CG_OK ? mask : -1;
    if (slot)
        *slot = n->metric_slot;
    if (count_slot)
        *count_slot = n->count_slot;
    return st;
}

/* What one sample's loss value counts in the loss's reduction (1 / the count a mean divides
 * by, or 1 for a sum). */
static float loss_scale(const cg_graph *g, const node *n) {
    float rows = (float)g->values[n->out].shape.d[0];
    float count = n->reduction == CG_REDUCE_MEAN         ? rows * (float)n->loss_elements
                  : n->reduction == CG_REDUCE_BATCH_MEAN ? rows
                                                         : 1.0f;
    return 1.0f / count;
}

/* The per-sample gradient that seeds a loss: d(total)/d(loss value of one sample). */
static float loss_seed(const cg_graph *g, const node *n) {
    return n->loss_weight * loss_scale(g, n);
}

/* Which values need gradients: those on a path from a trainable parameter or a value that
 * requires a gradient, to a loss (root < 0) or to the value root. Recomputed when freezing
 * changes and for every backward from a value. trainable (may be NULL) receives the values on a
 * trainable path whatever they feed. */
static void plan_gradients(cg_graph *g, int root, bool *trainable) {
    bool feeds[CG_GRAPH_MAX_VALUES] = {false};
    if (root >= 0)
        feeds[root] = true;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        node *n = &g->nodes[i];
        if (!((root < 0 && n->is_loss) || feeds[n->out]))
            continue;
        for (int k = 0; k < n->n_in; k++)
            feeds[n->in[k]] = true;
    }
    bool trainable_path[CG_GRAPH_MAX_VALUES] = {false};
    for (int v = 0; v < g->n_values; v++)
        trainable_path[v] = g->values[v].requires_grad;
    for (int i = 0; i < g->n_nodes; i++) {
        node *n = &g->nodes[i];
        bool t = false;
        for (int k = 0; k < n->n_params; k++)
            t = t || g->group_scale[g->params[n->params[k]].group] != 0.0f;
        for (int k = 0; k < n->n_in; k++)
            t = t || trainable_path[n->in[k]];
        trainable_path[n->out] = (t && n->op->backward != NULL) || g->values[n->out].requires_grad;
    }
    for (int v = 0; v < g->n_values; v++) {
        g->values[v].needs_grad = trainable_path[v] && feeds[v];
        if (trainable)
            trainable[v] = trainable_path[v];
    }
    for (int i = 0; i < g->n_nodes; i++) {
        node *n = &g->nodes[i];
        n->run_backward = n->op->backward != NULL &&
                          (g->values[n->out].needs_grad ||
                           (root < 0 && n->is_loss && trainable_path[n->out]));
    }
    /* The first writer of a gradient in backward order overwrites it; later ones add. */
    bool written[CG_GRAPH_MAX_VALUES] = {false};
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            n->din_acc[k] = written[n->in[k]];
            if (n->run_backward && g->values[n->in[k]].needs_grad)
                written[n->in[k]] = true;
        }
    }
}

/* How many node inputs (masks included) read the value. */
static int readers_of(const cg_graph *g, int value) {
    int readers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        for (int k = 0; k < g->nodes[i].n_in; k++)
            readers += g->nodes[i].in[k] == value;
        readers += g->nodes[i].mask == value;
    }
    return readers;
}

/* A view node (flatten, reshape) gives its output its input's bytes: the same numbers with
 * another shape (values are written only by their producers), so its forward copies nothing.
 * Where nothing else reads the input, the two gradients can be one place too (alias_grad, a
 * candidate here, settled in cg_graph_compile) and its backward copies nothing either. */
static void plan_aliases(cg_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        node *n = &g->nodes[i];
        n->alias = n->alias_grad = false;
        if (!n->op->is_view || n->n_in != 1)
            continue;
        const value *x = &g->values[n->in[0]], *o = &g->values[n->out];
        if (x->dtype != o->dtype || cg_shape_numel(&x->shape) != cg_shape_numel(&o->shape))
            continue;
        n->alias = true;
        n->alias_grad = readers_of(g, n->in[0]) == 1;
    }
}

/* First-fit placement of intervals [birth, death] of the given byte sizes; returns the arena
 * size. Values whose intervals overlap never share bytes. */
static size_t place_intervals(value *v, int n, size_t align, const bool *use) {
    int order[CG_GRAPH_MAX_VALUES], m = 0;
    for (int i = 0; i < n; i++)
        if (use[i])
            order[m++] = i;
    /* Largest first packs better. */
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0; j--) {
            size_t a = cg_shape_numel(&v[order[j]].shape), b = cg_shape_numel(&v[order[j - 1]].shape);
            if (a <= b)
                break;
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    size_t total = 0;
    for (int i = 0; i < m; i++) {
        value *x = &v[order[i]];
        size_t size = align_up(cg_shape_numel(&x->shape) * 4, align), at = 0;
        for (bool moved = true; moved;) {
            moved = false;
            for (int j = 0; j < i; j++) {
                value *y = &v[order[j]];
                size_t ysize = align_up(cg_shape_numel(&y->shape) * 4, align);
                bool live = !(x->grad_death < y->grad_birth || y->grad_death < x->grad_birth);
                if (live && at < y->grad_off + ysize && y->grad_off < at + size) {
                    at = y->grad_off + ysize;
                    moved = true;
                }
            }
        }
        x->grad_off = at;
        total = at + size > total ? at + size : total;
    }
    return total;
}

static void init_param(const param *p, uint64_t seed, int slot, float *dst) {
    size_t n = cg_shape_numel(&p->shape);
    if (p->init == CG_INIT_CONSTANT) {
        for (size_t i = 0; i < n; i++)
            dst[i] = p->constant;
        return;
    }
    /* kaiming_uniform_(a = sqrt(5)) and PyTorch's bias rule both give bound 1 / sqrt(fan_in). */
    double bound = 1.0 / sqrt((double)p->fan_in);
    cg__rng r;
    cg__rng_init(&r, seed, 0x70617200u + (uint32_t)slot);
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)((2 * cg__rng_uniform(&r) - 1) * bound);
}

/* Sizes in GB, for messages. */
static double gb(double bytes) {
    return bytes / 1e9;
}

/* Whether what compile is about to allocate fits the device: each buffer within its largest
 * allocation, all of them within its memory. A message names what needs the most, so a layer
 * too large for the device is named, not a bare clCreateBuffer failure. */
static cg_status check_fits(const cg_graph *g, size_t param_bytes) {
    const cg_device_info *d = &g->ctx->info;
    size_t act = 0, scratch = 0, big_param = 0, big_value = 0;
    int bp = -1, bv = -1, bs = -1;
    for (int i = 0; i < g->n_params; i++) {
        size_t b = cg_shape_numel(&g->params[i].shape) * 4;
        if (b > big_param)
            big_param = b, bp = i;
    }
    for (int i = 0; i < g->n_values; i++) {
        size_t b = cg_shape_numel(&g->values[i].shape) * 4;
        act += b;
        if (b > big_value)
            big_value = b, bv = i;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].scratch_bytes > scratch)
            scratch = g->nodes[i].scratch_bytes, bs = i;
    char shape[64];
    if (param_bytes > d->max_alloc && bp >= 0) {
        cg_shape_str(&g->params[bp].shape, shape, sizeof shape);
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "the parameters need %.2f GB in one buffer, more than this device's "
                         "largest allocation (%.2f GB); the largest is %.95s %s (%.2f GB): make "
                         "that layer smaller",
                         gb((double)param_bytes), gb((double)d->max_alloc), g->params[bp].name,
                         shape, gb((double)big_param));
    }
    if (act > d->max_alloc && bv >= 0) {
        cg_shape_str(&g->values[bv].shape, shape, sizeof shape);
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "the activations need %.2f GB in one buffer, more than this device's "
                         "largest allocation (%.2f GB); the largest is %.95s %s (%.2f GB): lower "
                         "the batch or make that layer smaller",
                         gb((double)act), gb((double)d->max_alloc), g->values[bv].name, shape,
                         gb((double)big_value));
    }
    if (scratch > d->max_alloc && bs >= 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "%.95s (%s) needs a workspace of %.2f GB, more than this device's "
                         "largest allocation (%.2f GB): lower the batch (or the evaluation's)",
                         g->nodes[bs].name, g->nodes[bs].op->name, gb((double)scratch),
                         gb((double)d->max_alloc));
    /* parameters, gradients, activations, their gradients (at most as many) and the workspace */
    double total = 2.0 * (double)param_bytes + 2.0 * (double)act + (double)scratch;
    if (total > (double)d->global_mem)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "the graph needs up to %.2f GB (parameters %.2f, activations %.2f, "
                         "workspace %.2f, and gradients), more than this device's %.2f GB: "
                         "lower the batch or make the model smaller",
                         gb(total), gb((double)param_bytes), gb((double)act), gb((double)scratch),
                         gb((double)d->global_mem));
    return CG_OK;
}

cg_status cg_graph_compile(cg_graph *g, uint64_t seed) {
    cg_status st = not_compiled(g, "compiling");
    if (st != CG_OK)
        return st;
    if (!g->ctx)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "a graph made without a device cannot compile");
    cg_context *ctx = g->ctx;
    size_t align = ctx->align;
    g->seed[0] = (uint32_t)seed ^ 0x5eed5eedu;
    g->seed[1] = (uint32_t)(seed >> 32) ^ 0x6772u;
    /* Parameters: one flat buffer, each slot on an aligned offset so it can be a view. */
    size_t at = 0;
    for (int i = 0; i < g->n_params; i++) {
        g->params[i].offset = at / 4;
        at = align_up(at + cg_shape_numel(&g->params[i].shape) * 4, align);
    }
    g->param_floats = at / 4;
    if ((st = check_fits(g, at)) != CG_OK)
        return st;
    float *host = calloc(g->param_floats ? g->param_floats : 1, sizeof *host);
    if (!host)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu parameters", g->param_floats);
    for (int i = 0; i < g->n_params; i++)
        init_param(&g->params[i], seed, i, host + g->params[i].offset);
    st = cg__buffer_create(ctx, at, &g->param_buf);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, g->param_buf, host, at ? at : 4);
    free(host);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, at, &g->grad_buf);
    for (int i = 0; i < g->n_params && st == CG_OK; i++) {
        size_t bytes = cg_shape_numel(&g->params[i].shape) * 4;
        st = cg__buffer_view(ctx, g->param_buf, g->params[i].offset * 4, bytes, &g->params[i].view);
        if (st == CG_OK)
            st = cg__buffer_view(ctx, g->grad_buf, g->params[i].offset * 4, bytes,
                                 &g->params[i].grad_view);
    }
    /* Activations: every value keeps its own place, since backward reads them all; a view's
     * output is its input's place (values come after their inputs, so chains resolve). */
    plan_aliases(g);
    size_t act = 0;
    for (int i = 0; i < g->n_values; i++) {
        const value *v = &g->values[i];
        if (v->producer >= 0 && g->nodes[v->producer].alias) {
            g->values[i].act_off = g->values[g->nodes[v->producer].in[0]].act_off;
            continue;
        }
        g->values[i].act_off = act;
        act = align_up(act + cg_shape_numel(&g->values[i].shape) * 4, align);
    }
    if (st == CG_OK)
        st = cg__buffer_create(ctx, act, &g->act_arena);
    for (int i = 0; i < g->n_values && st == CG_OK; i++)
        st = cg__buffer_view(ctx, g->act_arena, g->values[i].act_off,
                             cg_shape_numel(&g->values[i].shape) * 4, &g->values[i].mem);
    /* Gradients: planned with every group trainable, which needs the most, so freezing and
     * unfreezing later never needs new buffers; every value on a trainable path gets one, so
     * a backward may start from any value. A gradient lives from its first writer in backward
     * order (position n_nodes - 1 - node) to its producer's backward (a value nothing reads:
     * at its producer's backward, where a seed is written). */
    float scales[MAX_GROUPS];
    memcpy(scales, g->group_scale, sizeof scales);
    for (int i = 0; i < MAX_GROUPS; i++)
        g->group_scale[i] = 1.0f;
    bool use[CG_GRAPH_MAX_VALUES] = {false};
    plan_gradients(g, -1, use);
    for (int v = 0; v < g->n_values; v++) {
        value *x = &g->values[v];
        bool loss_output = x->producer >= 0 && g->nodes[x->producer].is_loss;
        use[v] = !g->inference && (use[v] || loss_output); /* a loss's seed lives in its output's
                                                                gradient */
        x->grad_death = x->producer >= 0 ? g->n_nodes - 1 - x->producer : g->n_nodes;
        x->grad_birth = loss_output ? 0 : g->n_nodes;
        for (int i = 0; i < g->n_nodes; i++)
            for (int k = 0; k < g->nodes[i].n_in; k++)
                if (g->nodes[i].in[k] == v && g->n_nodes - 1 - i < x->grad_birth)
                    x->grad_birth = g->n_nodes - 1 - i;
        if (x->grad_birth > x->grad_death)
            x->grad_birth = x->grad_death;
    }
    memcpy(g->group_scale, scales, sizeof scales);
    plan_gradients(g, -1, NULL);
    /* A view whose input nothing else reads, both with gradients: the two gradients are one
     * place, living from the first write of the output's to the last read of the input's
     * (backward order, so that a chain of views extends the first one's input). */
    bool place[CG_GRAPH_MAX_VALUES];
    memcpy(place, use, sizeof place);
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        node *n = &g->nodes[i];
        n->alias_grad = n->alias_grad && use[n->in[0]] && use[n->out];
        if (!n->alias_grad)
            continue;
        value *x = &g->values[n->in[0]], *o = &g->values[n->out];
        x->grad_birth = o->grad_birth < x->grad_birth ? o->grad_birth : x->grad_birth;
        place[n->out] = false;
    }
    size_t grads = place_intervals(g->values, g->n_values, align, place);
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].alias_grad)
            g->values[g->nodes[i].out].grad_off = g->values[g->nodes[i].in[0]].grad_off;
    if (st == CG_OK && grads > 0)
        st = cg__buffer_create(ctx, grads, &g->grad_arena);
    for (int v = 0; v < g->n_values && st == CG_OK; v++)
        if (use[v])
            st = cg__buffer_view(ctx, g->grad_arena, g->values[v].grad_off,
                                 cg_shape_numel(&g->values[v].shape) * 4, &g->values[v].grad);
    size_t scratch = 0;
    for (int i = 0; i < g->n_nodes; i++)
        scratch = g->nodes[i].scratch_bytes > scratch ? g->nodes[i].scratch_bytes : scratch;
    if (st == CG_OK && scratch)
        st = cg__buffer_create(ctx, scratch, &g->scratch);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, CG_GRAPH_ACC_SLOTS * sizeof(float), &g->acc);
    if (st == CG_OK)
        st = cg__fill(ctx, g->acc, 0.0f, CG_GRAPH_ACC_SLOTS);
    if (st == CG_OK)
        st = cg__buffer_create(ctx, sizeof g->words_host, &g->words);
    if (st == CG_OK)
        g->compiled = true;
    return st;
}

/* Puts the step's changing numbers on the device where they differ from what it holds (one
 * fill, no waiting). */
static cg_status set_words(cg_graph *g, const uint32_t w[4]) {
    if (g->words_set && memcmp(w, g->words_host, sizeof g->words_host) == 0)
        return CG_OK;
    cg_status st = cg__buffer_fill16(g->ctx, g->words, w);
    if (st == CG_OK) {
        memcpy(g->words_host, w, sizeof g->words_host);
        g->words_set = true;
    }
    return st;
}

cl_mem cg_graph_value_mem(const cg_graph *g, int value) {
    return value >= 0 && value < g->n_values ? g->values[value].mem : NULL;
}

cg_shape cg_graph_value_shape(const cg_graph *g, int value) {
    cg_shape none = {0, {0, 0, 0, 0}};
    return value >= 0 && value < g->n_values ? g->values[value].shape : none;
}

static cg_tensor tensor_of(const value *v, bool grad) {
    cg_tensor t = {grad ? v->grad : v->mem, grad ? CG_F32 : v->dtype, v->shape};
    return t;
}

/* The call record of node n, with its inputs, parameters and output. */
static void call_of(cg_graph *g, node *n, bool training, cg_op_call *c, cg_tensor *in,
                    cg_tensor *params, cg_tensor *out) {
    for (int k = 0; k < n->n_in; k++)
        in[k] = tensor_of(&g->values[n->in[k]], false);
    for (int k = 0; k < n->n_params; k++) {
        const param *p = &g->params[n->params[k]];
        params[k] = (cg_tensor){p->view, CG_F32, p->shape};
    }
    *out = tensor_of(&g->values[n->out], false);
    *c = (cg_op_call){.ctx = g->ctx, .attrs = &n->attrs, .n_in = n->n_in, .in = in,
                      .n_params = n->n_params, .params = params, .out = out,
                      .scratch = g->scratch, .training = training,
                      .seed = {g->seed[0], g->seed[1]},
                      .counter = g->launch + (uint32_t)(n - g->nodes) - g->words_host[0],
                      .counter_base = g->words};
}

cg_status cg_graph_forward(cg_graph *g, bool training) {
    if (!g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "run cg_graph_compile before forward");
    /* Each forward draws fresh randomness; backward reuses this forward's counters. */
    g->launch += (uint32_t)g->n_nodes;
    uint32_t w[4];
    memcpy(w, g->words_host, sizeof w);
    w[0] = g->launch;
    cg_status wst = set_words(g, w);
    if (wst != CG_OK)
        return wst;
    for (int i = 0; i < g->n_nodes; i++) {
        node *n = &g->nodes[i];
        if (n->skip)
            continue;
        cg_tensor in[CG_MAX_INPUTS], params[CG_MAX_PARAMS], out;
        cg_op_call c;
        call_of(g, n, training, &c, in, params, &out);
        n->ran_forward = true;
        n->fwd_training = training;
        n->fwd_counter = g->launch + (uint32_t)i;
        if (cg__profiling(g->ctx))
            cg__profile_label(g->ctx, "%s forward", n->name);
        cg_status st = n->alias ? CG_OK : n->op->forward(&c); /* shared: nothing to copy */
        const value *o = &g->values[n->out];
        size_t rows = (size_t)o->shape.d[0];
        if (g->valid_rows > 0 && (size_t)g->valid_rows < rows)
            rows = (size_t)g->valid_rows;
        if (st == CG_OK && n->is_loss) /* the weighted total, and the loss itself, unweighted:
                                         * also a loss of weight 0 shows */
            st = cg__sum_into2(g->ctx, g->acc, 0, loss_seed(g, n), (uint32_t)n->loss_slot,
                               loss_scale(g, n), o->mem, rows);
        if (st == CG_OK && n->metric_slot >= 0 && n->mask < 0)
            st = cg__sum_into(g->ctx, g->acc, (uint32_t)n->metric_slot, o->mem,
                              cg_shape_numel(&o->shape) / (size_t)o->shape.d[0] * rows, 1.0f);
        if (st == CG_OK && n->metric_slot >= 0 && n->mask >= 0) {
            const value *m = &g->values[n->mask];
            st = cg__sum_masked_into(g->ctx, g->acc, (uint32_t)n->metric_slot,
                                     (uint32_t)n->count_slot, o->mem, m->mem, m->dtype == CG_I32,
                                     rows, cg_shape_numel(&o->shape) / (size_t)o->shape.d[0]);
        }
        if (st != CG_OK)
            return cg__error_prefix(st, "forward of %s (%s)", n->name, n->op->name);
    }
    return CG_OK;
}

/* The backward pass toward the loss total (root < 0) or from value root, whose gradient is
 * seeded from the device buffer seed (root's shape) just before its producer's backward. */
static cg_status backward(cg_graph *g, int root, cl_mem seed) {
    if (!g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "run cg_graph_compile before backward");
    if (g->inference)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "backward on a graph made for inference");
    /* Toward the losses the plan made at compile (and on freezing) stands; a backward from a
     * value plans its own, and cg_graph_backward_from restores the losses' plan after it. */
    if (root >= 0)
        plan_gradients(g, root, NULL);
    if (cg__profiling(g->ctx))
        cg__profile_label(g->ctx, "zero gradients");
    cg_status st = cg__fill(g->ctx, g->grad_buf, 0.0f, g->param_floats);
    for (int i = g->n_nodes - 1; i >= 0 && st == CG_OK; i--) {
        node *n = &g->nodes[i];
        if (!n->run_backward)
            continue;
        if (!n->ran_forward)
            return cg__error(CG_ERR_INVALID_ARGUMENT, "backward of %s before any forward",
                             n->name);
        value *o = &g->values[n->out];
        if (cg__profiling(g->ctx))
            cg__profile_label(g->ctx, "%s backward", n->name);
        if (n->out == root)
            st = cg__buffer_copy(g->ctx, o->grad, 0, seed, 0, cg_shape_numel(&o->shape) * 4);
        else if (n->is_loss && root < 0)
            st = cg__fill(g->ctx, o->grad, loss_seed(g, n), cg_shape_numel(&o->shape));
        cg_tensor in[CG_MAX_INPUTS], params[CG_MAX_PARAMS], out, din[CG_MAX_INPUTS];
        cg_tensor dparams[CG_MAX_PARAMS];
        cg_op_call c;
        call_of(g, n, n->fwd_training, &c, in, params, &out);
        cg_tensor dout = tensor_of(o, true);
        for (int k = 0; k < n->n_in; k++) {
            const value *x = &g->values[n->in[k]];
            din[k] = x->needs_grad ? tensor_of(x, true) : (cg_tensor){NULL, CG_F32, x->shape};
        }
        for (int k = 0; k < n->n_params; k++) {
            const param *p = &g->params[n->params[k]];
            dparams[k] = (cg_tensor){p->grad_view, CG_F32, p->shape};
        }
        c.dout = &dout;
        c.din = din;
        c.din_accumulate = n->din_acc;
        c.dparams = dparams;
        c.counter = n->fwd_counter - g->words_host[0]; /* modulo 2^32, as the kernels add */
        if (st == CG_OK && !n->alias_grad)
            st = n->op->backward(&c);
        if (st != CG_OK)
            return cg__error_prefix(st, "backward of %s (%s)", n->name, n->op->name);
    }
    return st;
}

cg_status cg_graph_backward(cg_graph *g) {
    return backward(g, -1, NULL);
}

cg_status cg_graph_backward_from(cg_graph *g, int val, const float *seed) {
    if (!g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "run cg_graph_compile before backward");
    if (val < 0 || val >= g->n_values || g->values[val].producer < 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "backward from val %d: it must be the output of a node", val);
    value *v = &g->values[val];
    if (!v->grad)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "backward from %s: nothing before it is trainable or requires a "
                         "gradient, so there is nothing to differentiate",
                         v->name);
    if (v->dtype != CG_F32)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "backward from %s: it holds integers", v->name);
    size_t n = cg_shape_numel(&v->shape);
    /* The seed goes to a buffer of its own: the val's gradient may share its bytes with
     * gradients written before the seed is used. */
    cl_mem buf = NULL;
    cg_status st = cg__buffer_create(g->ctx, n * 4, &buf);
    float *ones = NULL;
    if (st == CG_OK && !seed) {
        if (!(ones = malloc(n * sizeof *ones)))
            st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a seed of %zu values", n);
        for (size_t i = 0; ones && i < n; i++)
            ones[i] = 1.0f;
    }
    if (st == CG_OK)
        st = cg__buffer_write(g->ctx, buf, seed ? seed : ones, n * 4);
    free(ones);
    if (st == CG_OK)
        st = backward(g, val, buf);
    plan_gradients(g, -1, NULL);
    cg__buffer_release(buf);
    return st;
}

cg_status cg_graph_set_inference(cg_graph *g) {
    cg_status st = not_compiled(g, "making a graph forward-only");
    if (st == CG_OK)
        g->inference = true;
    return st;
}

cg_status cg_graph_require_grad(cg_graph *g, int value) {
    cg_status st = not_compiled(g, "asking for a gradient");
    if (st != CG_OK)
        return st;
    if (value < 0 || value >= g->n_values)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "no value %d", value);
    if (g->values[value].dtype != CG_F32)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s holds integers: it has no gradient",
                         g->values[value].name);
    g->values[value].requires_grad = true;
    return CG_OK;
}

cl_mem cg_graph_grad_mem(const cg_graph *g, int value) {
    return value >= 0 && value < g->n_values ? g->values[value].grad : NULL;
}

static cg_status read_value(cg_graph *g, int val, float *host, bool grad) {
    if (val < 0 || val >= g->n_values)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "no value %d", val);
    const value *v = &g->values[val];
    if (grad && !v->grad)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "%s has no gradient (nothing trainable or "
                                                  "requiring a gradient leads to it)",
                         v->name);
    return cg__buffer_read(g->ctx, grad ? v->grad : v->mem, host, cg_shape_numel(&v->shape) * 4);
}

cg_status cg_graph_read_value(cg_graph *g, int value, float *host) {
    return read_value(g, value, host, false);
}

cg_status cg_graph_read_grad(cg_graph *g, int value, float *host) {
    return read_value(g, value, host, true);
}

int cg_graph_find_input(const cg_graph *g, const char *name) {
    for (int v = 0; v < g->n_values; v++)
        if (g->values[v].producer < 0 && strcmp(g->values[v].name, name) == 0)
            return v;
    return -1;
}

int cg_graph_batch(const cg_graph *g) {
    return g->batch;
}

cg_context *cg_graph_context(const cg_graph *g) {
    return g->ctx;
}

cg_status cg_graph_train_until(cg_graph *g, const cg_until *u, int *first_step, int *steps_run) {
    *steps_run = 0;
    if (u->condition < 0 || u->condition >= g->n_values)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "the stopping condition is no value");
    const value *cond = &g->values[u->condition];
    size_t n = (size_t)g->batch;
    if (cond->dtype != CG_F32 || cg_shape_numel(&cond->shape) != n)
        return cg__error(CG_ERR_SHAPE, "the stopping condition %s must hold one float per sample "
                                       "(%zu values), not %zu",
                         cond->name, n, cg_shape_numel(&cond->shape));
    if (u->check_every < 1 || u->max_steps < 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "check every %d steps, at most %d steps: both "
                                                  "must be positive",
                         u->check_every, u->max_steps);
    cg_status st = CG_OK;
    if (!g->hits)
        st = cg__buffer_create(g->ctx, n * sizeof(int32_t), &g->hits);
    if (st == CG_OK)
        st = cg__fill_i32(g->ctx, g->hits, -1, n);
    int step = 0;
    bool done = false;
    while (st == CG_OK && !done) {
        /* Step `step`: the forward sees the parameters after `step` updates. */
        st = cg_graph_forward(g, u->training);
        if (st == CG_OK)
            st = cg__mark_first(g->ctx, g->hits, cond->mem, u->threshold, (int32_t)step, n);
        bool check = (step + 1) % u->check_every == 0 || step == u->max_steps;
        if (st == CG_OK && check) {
            st = cg__buffer_read(g->ctx, g->hits, first_step, n * sizeof(int32_t));
            done = true;
            for (size_t i = 0; i < n; i++)
                done = done && first_step[i] >= 0;
        }
        if (st != CG_OK || done || step == u->max_steps)
            break;
        st = cg_graph_backward(g);
        if (st == CG_OK)
            st = cg_graph_step(g, u->optimizer);
        step++;
    }
    if (st == CG_OK && !done)
        st = cg__buffer_read(g->ctx, g->hits, first_step, n * sizeof(int32_t));
    *steps_run = step;
    return st;
}

cg_status cg_graph_set_lr_scale(cg_graph *g, int group, float scale) {
    if (group < 0 || group >= MAX_GROUPS)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "parameter group %d; use 0 to %d", group,
                         MAX_GROUPS - 1);
    g->group_scale[group] = scale;
    if (g->compiled)
        plan_gradients(g, -1, NULL);
    return CG_OK;
}

/* A new optimizer state buffer for opt (its contents not set), the old one and the step's
 * recording, which names it, let go. */
static cg_status remake_opt_state(cg_graph *g, const cg_optim_config *opt) {
    cg__replay_free(g->ctx, g->replay); /* the recording names the old buffer */
    g->replay = NULL;
    if (g->opt_state)
        clReleaseMemObject(g->opt_state);
    g->opt_state = NULL;
    g->opt_kind = opt->kind;
    g->opt_state_floats = cg_optim_state_floats(opt, g->param_floats);
    return cg__buffer_create(g->ctx, (g->opt_state_floats + 1) * 4, &g->opt_state);
}

/* The optimizer's state buffer for opt, made (zeroed, step count 0) on the first step and when
 * the optimizer changes. */
static cg_status ensure_opt_state(cg_graph *g, const cg_optim_config *opt) {
    if (g->opt_state && g->opt_kind == opt->kind)
        return CG_OK;
    g->step = 0;
    cg_status st = remake_opt_state(g, opt);
    if (st == CG_OK)
        st = cg__fill(g->ctx, g->opt_state, 0.0f, g->opt_state_floats + 1);
    return st;
}

cg_status cg_graph_step(cg_graph *g, const cg_optim_config *opt) {
    if (!g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "run cg_graph_compile before an optimizer step");
    cg_status st = ensure_opt_state(g, opt);
    if (st != CG_OK)
        return st;
    /* Contiguous runs of slots of one group make one range each. */
    cg_param_range ranges[CG_GRAPH_MAX_PARAMS];
    int n = 0;
    for (int i = 0; i < g->n_params; i++) {
        float scale = g->group_scale[g->params[i].group];
        size_t end = i + 1 < g->n_params ? g->params[i + 1].offset : g->param_floats;
        if (n > 0 && ranges[n - 1].lr_scale == scale &&
            ranges[n - 1].offset + ranges[n - 1].count == g->params[i].offset)
            ranges[n - 1].count += end - g->params[i].offset;
        else
            ranges[n++] = (cg_param_range){g->params[i].offset, end - g->params[i].offset, scale};
    }
    g->step++;
    uint32_t w[4];
    memcpy(w, g->words_host, sizeof w);
    cg__optim_words(opt, g->step, w);
    if ((st = set_words(g, w)) != CG_OK)
        return st;
    if (cg__profiling(g->ctx))
        cg__profile_label(g->ctx, "optimizer");
    return cg__optim_step_with(g->ctx, opt, g->param_buf, g->grad_buf, g->opt_state,
                               g->param_floats, ranges, (size_t)n, g->words);
}

cg_status cg_graph_train_step(cg_graph *g, const cg_optim_config *opt) {
    if (!g->compiled)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "run cg_graph_compile before a training step");
    if (g->inference)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "a training step on a graph made for inference");
    cg_status st = ensure_opt_state(g, opt);
    /* The numbers this step's forward and optimizer will want, put there before the step so
     * that nothing inside it but launches reaches the queue. */
    uint32_t w[4];
    w[0] = g->launch + (uint32_t)g->n_nodes;
    cg__optim_words(opt, g->step + 1, w);
    if (st == CG_OK)
        st = set_words(g, w);
    /* The first step runs as usual: programs are built, convolutions timed (autotune). */
    if (st == CG_OK && g->train_steps > 0 && !g->replay)
        st = cg__replay_new(g->ctx, &g->replay);
    if (st != CG_OK)
        return st;
    cg__replay_open(g->ctx, g->replay);
    st = cg_graph_forward(g, true);
    if (st == CG_OK)
        st = cg_graph_backward(g);
    if (st == CG_OK)
        st = cg_graph_step(g, opt);
    if (st != CG_OK) /* a step that failed part way is never kept as a recording */
        cg__replay_interrupt(g->ctx);
    cg_status cst = cg__replay_close(g->ctx, g->replay, NULL);
    g->train_steps++;
    return st != CG_OK ? st : cst;
}

cg_replay_stats cg_graph_replay_stats(const cg_graph *g) {
    cg_replay_stats s = cg__replay_stats(g->replay);
    s.steps = g->train_steps;
    return s;
}

cg_status cg_graph_read_accumulator(cg_graph *g, float *out, int n) {
    if (n > CG_GRAPH_ACC_SLOTS)
        n = CG_GRAPH_ACC_SLOTS;
    return cg__buffer_read(g->ctx, g->acc, out, (size_t)n * sizeof *out);
}

cg_status cg_graph_read_train_state(cg_graph *g, cg_graph_train_state *s) {
    memset(s, 0, sizeof *s);
    s->step = g->step;
    s->launch = g->launch;
    s->opt_floats = g->opt_state ? g->opt_state_floats : 0;
    cg_status st = cg__buffer_read(g->ctx, g->acc, s->acc, sizeof s->acc);
    if (st == CG_OK && g->opt_state) {
        s->opt = malloc((s->opt_floats + 1) * sizeof *s->opt);
        st = s->opt ? cg__buffer_read(g->ctx, g->opt_state, s->opt, (s->opt_floats + 1) * 4)
                    : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the optimizer's state");
    }
    return st;
}

cg_status cg_graph_write_train_state(cg_graph *g, const cg_optim_config *opt,
                                     const cg_graph_train_state *s) {
    if (s->opt_floats && (s->opt_floats != cg_optim_state_floats(opt, g->param_floats) || !s->opt))
        return cg__error(CG_ERR_INVALID_ARGUMENT, "the saved optimizer state holds %zu numbers; "
                                                  "this graph's %s needs %zu",
                         s->opt_floats, opt->kind == CG_OPTIM_SGD ? "SGD" : "Adam",
                         cg_optim_state_floats(opt, g->param_floats));
    cg_status st = CG_OK;
    if (s->opt_floats && (!g->opt_state || g->opt_kind != opt->kind))
        st = remake_opt_state(g, opt); /* of s->opt_floats numbers, checked above */
    if (st == CG_OK && s->opt_floats)
        st = cg__buffer_write(g->ctx, g->opt_state, s->opt, (s->opt_floats + 1) * 4);
    if (st == CG_OK)
        st = cg__buffer_write(g->ctx, g->acc, s->acc, sizeof s->acc);
    g->step = s->step;
    g->launch = s->launch;
    return st;
}

cg_status cg_graph_reset_accumulator(cg_graph *g) {
    return cg__fill(g->ctx, g->acc, 0.0f, CG_GRAPH_ACC_SLOTS);
}

bool cg_graph_value_used(const cg_graph *g, int value) {
    return readers_of(g, value) > 0;
}

void cg_graph_set_valid_rows(cg_graph *g, int rows) {
    g->valid_rows = rows;
}

int cg_graph_node_count(const cg_graph *g) {
    return g->n_nodes;
}

cg_node_info cg_graph_node_at(const cg_graph *g, int index) {
    const node *n = &g->nodes[index];
    cg_node_info info = {n->name, n->op->name, g->values[n->out].shape, 0};
    /* A slot belongs to the first node that uses it. */
    for (int k = 0; k < n->n_params; k++) {
        bool earlier = false;
        for (int j = 0; j < index && !earlier; j++)
            for (int q = 0; q < g->nodes[j].n_params; q++)
                earlier = earlier || g->nodes[j].params[q] == n->params[k];
        if (!earlier)
            info.new_params += cg_shape_numel(&g->params[n->params[k]].shape);
    }
    return info;
}

int cg_graph_param_count(const cg_graph *g) {
    return g->n_params;
}

cg_param_info cg_graph_param_at(const cg_graph *g, int slot) {
    const param *p = &g->params[slot];
    cg_param_info info = {p->name, p->shape, p->offset, p->group};
    return info;
}

size_t cg_graph_param_floats(const cg_graph *g) {
    size_t n = 0;
    for (int i = 0; i < g->n_params; i++)
        n += cg_shape_numel(&g->params[i].shape);
    return n;
}

size_t cg_graph_param_buffer_floats(const cg_graph *g) {
    return g->param_floats;
}

cg_status cg_graph_read_params(cg_graph *g, float *host, bool gradients) {
    return cg__buffer_read(g->ctx, gradients ? g->grad_buf : g->param_buf, host,
                           g->param_floats * 4);
}

cg_status cg_graph_write_params(cg_graph *g, const float *host) {
    return cg__buffer_write(g->ctx, g->param_buf, host, g->param_floats * 4);
}

cg_status cg_graph_run_only(cg_graph *g, const int *values, int n_values) {
    if (!g->inference)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "only a forward-only graph runs part of its "
                                                  "nodes (backward needs them all)");
    bool need[CG_GRAPH_MAX_VALUES] = {false};
    for (int k = 0; k < n_values; k++)
        if (values[k] >= 0 && values[k] < g->n_values)
            need[values[k]] = true;
    /* Producers come before their readers: walk back from the last node. */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        node *n = &g->nodes[i];
        n->skip = !(need[n->out] || n->is_loss || n->metric_slot >= 0);
        for (int k = 0; !n->skip && k < n->n_in; k++)
            need[n->in[k]] = true;
        if (!n->skip && n->mask >= 0)
            need[n->mask] = true;
    }
    return CG_OK;
}

void cg_graph_run_all(cg_graph *g) {
    for (int i = 0; i < g->n_nodes; i++)
        g->nodes[i].skip = false;
}
