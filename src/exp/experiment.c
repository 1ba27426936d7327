/* Reading an experiment descriptor and building its graph (see experiment.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/experiment.h"
#include "exp/layers.h"
#include "pipelines/pipeline.h"

/* ---- overrides: variants and --set ---- */

static cg_ynode *copy_node(const cg_ynode *n) {
    cg_ynode *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *n;
    c->value = n->value ? strdup(n->value) : NULL;
    c->items = n->n ? calloc((size_t)n->n, sizeof *c->items) : NULL;
    c->keys = n->keys && n->n ? calloc((size_t)n->n, sizeof *c->keys) : NULL;
    for (int i = 0; i < n->n; i++) {
        c->items[i] = copy_node(n->items[i]);
        if (n->keys)
            c->keys[i] = copy_node(n->keys[i]);
    }
    return c;
}

/* Sets the value at a dotted path ("losses.1.weight", "train.epochs") to a copy of value;
 * a missing last key of a mapping is added, and a last index one past a list's end appends
 * ("losses.1" on a list of one loss adds a second). at (for messages) is where the override
 * came from. */
static cg_status set_path(cg_ydoc *doc, const char *path, const cg_ynode *value,
                          const cg_ynode *at) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    cg_ynode *cur = doc->root;
    char *save = NULL, *part = strtok_r(buf, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        cg_ynode **slot = NULL;
        if (cur && cur->kind == CG_YMAP) {
            for (int i = 0; i < cur->n && !slot; i++)
                if (strcmp(cur->keys[i]->value, part) == 0)
                    slot = &cur->items[i];
            if (!slot) { /* add the key: a value last, a new mapping on the way */
                cg_ynode **items = realloc(cur->items, (size_t)(cur->n + 1) * sizeof *items);
                cg_ynode **keys = items ? realloc(cur->keys, (size_t)(cur->n + 1) * sizeof *keys) : NULL;
                if (items)
                    cur->items = items;
                if (!keys)
                    return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for an override");
                cur->keys = keys;
                cg_ynode key = {CG_YSCALAR, value->line, value->col, (char *)part, false, 0,
                                NULL, NULL, value->origin};
                cg_ynode map = {CG_YMAP, value->line, value->col, NULL, false, 0, NULL, NULL,
                                value->origin};
                keys[cur->n] = copy_node(&key);
                items[cur->n] = next ? copy_node(&map) : NULL;
                slot = &items[cur->n++];
            }
        } else if (cur && cur->kind == CG_YSEQ) {
            char *end;
            long i = strtol(part, &end, 10);
            if (*end == '\0' && i >= 0 && i < cur->n)
                slot = &cur->items[i];
            if (*end == '\0' && i == cur->n && !next) {
                cg_ynode **items = realloc(cur->items, (size_t)(cur->n + 1) * sizeof *items);
                if (!items)
                    return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for an override");
                cur->items = items;
                items[cur->n] = NULL;
                slot = &items[cur->n++];
            }
        }
        if (!slot)
            return cg_yerror(doc, at, "the override '%s' names '%s', which is not in the "
                                      "experiment",
                             path, part);
        if (!next) {
            cg_ynode *copy = copy_node(value);
            if (!copy)
                return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for an override");
            cg_ynode_free(*slot);
            *slot = copy;
            return CG_OK;
        }
        cur = *slot;
        part = next;
    }
    return CG_OK;
}

static cg_status apply_overrides(cg_ydoc *doc, const cg_ynode *v, const char *variant);

/* A name made by a sweep: the variant's overrides (when it has one), then the sweep's value. 
 * Returns CG_ERR_NOT_FOUND (no message) when the name is none of the sweep's. */
static cg_status apply_sweep(cg_ydoc *doc, const char *name) {
    const cg_ynode *sw = cg_ymap_get(doc->root, "sweep");
    const cg_ynode *key = sw ? cg_ymap_get(sw, "key") : NULL;
    const cg_ynode *vals = sw ? cg_ymap_get(sw, "values") : NULL;
    const cg_ynode *vars = cg_ymap_get(doc->root, "variants");
    if (!key || key->kind != CG_YSCALAR || !key->value || !vals || vals->kind != CG_YMAP)
        return CG_ERR_NOT_FOUND;
    int n_vars = vars && vars->kind == CG_YMAP ? vars->n : 0;
    for (int b = 0; b < (n_vars ? n_vars : 1); b++)
        for (int i = 0; i < vals->n; i++) {
            char made[2 * CG_EXP_NAME + 2];
            cg__sweep_name(made, sizeof made, n_vars ? vars->keys[b]->value : NULL,
                       vals->keys[i]->value);
            if (strcmp(made, name) != 0)
                continue;
            cg_status st = n_vars ? apply_overrides(doc, vars->items[b], vars->keys[b]->value)
                                  : CG_OK;
            return st == CG_OK ? set_path(doc, key->value, vals->items[i], vals->keys[i]) : st;
        }
    return CG_ERR_NOT_FOUND;
}

static cg_status apply_overrides(cg_ydoc *doc, const cg_ynode *v, const char *variant) {
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "variant '%s' must map dotted keys to values, such as "
                                 "'losses.1.weight: 0'",
                         variant);
    for (int i = 0; i < v->n; i++) {
        /* The variants (and the sweep) are being read while these apply: not theirs to set. */
        const char *key = v->keys[i]->value;
        static const char *const own[] = {"variants", "sweep"};
        for (size_t k = 0; k < CG__ARRAY_LEN(own); k++) {
            size_t n = strlen(own[k]);
            if (!strncmp(key, own[k], n) && (key[n] == '\0' || key[n] == '.'))
                return cg_yerror(doc, v->keys[i], "variant '%s' sets '%s'; a variant cannot "
                                                  "change the %s",
                                 variant, key, own[k]);
        }
        cg_status st = set_path(doc, key, v->items[i], v->keys[i]);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

static cg_status apply_variant(cg_ydoc *doc, const char *variant) {
    const cg_ynode *vars = cg_ymap_get(doc->root, "variants");
    if (cg_ymap_get(doc->root, "sweep")) {
        cg_status st = apply_sweep(doc, variant);
        if (st != CG_ERR_NOT_FOUND)
            return st;
        return cg__error(CG_ERR_NOT_FOUND, "%s: no variant '%s'; with a sweep the variants are "
                                           "named <variant>_<value>, such as the run's list in "
                                           "clgraph validate",
                         doc->file, variant);
    }
    const cg_ynode *v = vars ? cg_ymap_get(vars, variant) : NULL;
    if (!v) {
        char list[512] = "";
        for (int i = 0, used = 0; vars && vars->kind == CG_YMAP && i < vars->n; i++)
            used += snprintf(list + used, sizeof list - (size_t)used, "%s%s", i ? ", " : "",
                             vars->keys[i]->value);
        return cg__error(CG_ERR_NOT_FOUND, "%s: no variant '%s'%s%s", doc->file, variant,
                         list[0] ? "; the variants are: " : " (the file defines none)", list);
    }
    return apply_overrides(doc, v, variant);
}

/* Marks a parsed --set value and everything in it as coming from that option. */
static void mark_origin(cg_ynode *n, const char *origin) {
    if (!n)
        return;
    n->origin = origin;
    for (int i = 0; i < n->n; i++) {
        mark_origin(n->items[i], origin);
        if (n->keys)
            mark_origin(n->keys[i], origin);
    }
}

static cg_status apply_set(cg_ydoc *doc, const char *set) {
    const char *eq = strchr(set, '=');
    if (!eq || eq == set)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "--set '%s': write it as key=value, such as train.epochs=3", set);
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - set), set);
    cg_ydoc *val;
    cg_status st = cg_ydoc_parse("--set", eq + 1, strlen(eq + 1), &val);
    if (st != CG_OK)
        return cg__error_prefix(st, "--set '%s'", set);
    mark_origin(val->root, set);
    cg_ynode empty = {CG_YSCALAR, 1, 1, (char *)"", false, 0, NULL, NULL, set};
    st = set_path(doc, key, val->root ? val->root : &empty, doc->root);
    cg_ydoc_free(val);
    return st;
}

/* ---- parsing ---- */

static cg_status read_name_list(const cg_ydoc *doc, const cg_ynode *node, const char *key,
                                char (*out)[CG_EXP_NAME], int cap, int *n) {
    const cg_ynode *items = node;
    int count = node->kind == CG_YSEQ ? node->n : 1;
    if (count > cap)
        return cg_yerror(doc, node, "'%s' has %d names; at most %d", key, count, cap);
    for (int i = 0; i < count; i++) {
        cg_status st = cg_yget_str(doc, node->kind == CG_YSEQ ? items->items[i] : node, key,
                                   out[i], CG_EXP_NAME);
        if (st != CG_OK)
            return st;
    }
    *n = count;
    return CG_OK;
}

static cg_status parse_module(const cg_ydoc *doc, const char *name, const cg_ynode *v,
                              cg_exp_module *m) {
    memset(m, 0, sizeof *m);
    cg__copy_str(m->name, sizeof m->name, name);
    m->share = true;
    const cg_ynode *layers = v;
    if (v->kind == CG_YMAP && cg_ymap_get(v, "type")) {
        /* One layer as the module itself, as PyTorch's `self.mu = nn.Linear(400, 30)`: its
         * parameters are "<module>.weight", without a layer index. */
        cg_exp_layer *l = &m->layers[0];
        cg_status st = cg_exp_read_layer(doc, v, NULL, &l->op, &l->attrs, l->name,
                                         sizeof l->name);
        if (st == CG_OK && l->op->is_loss)
            return cg_yerror(doc, v, "%s is a loss; put it under 'losses:'", l->op->name);
        if (st == CG_OK && l->name[0])
            return cg_yerror(doc, v, "module '%s' is one layer; it takes no 'name:' (a list "
                                     "of layers names each)",
                             name);
        m->n_layers = st == CG_OK;
        return st;
    }
    if (v->kind == CG_YMAP) {
        static const char *const keys[] = {"layers", "share"};
        cg_status st = cg_ycheck_keys(doc, v, "a module", keys, 2);
        const cg_ynode *share = cg_ymap_get(v, "share");
        if (st == CG_OK && share)
            st = cg_yget_bool(doc, share, "share", &m->share);
        if (st != CG_OK)
            return st;
        layers = cg_ymap_get(v, "layers");
        if (!layers)
            return cg_yerror(doc, v, "module '%s' needs 'layers:'", name);
    }
    if (layers->kind != CG_YSEQ || layers->n == 0)
        return cg_yerror(doc, layers, "module '%s' is a list of layers, such as "
                                      "[{type: linear, out: 10}, relu]",
                         name);
    if (layers->n > CG_EXP_MAX_LAYERS)
        return cg_yerror(doc, layers, "module '%s' has %d layers; at most %d", name, layers->n,
                         CG_EXP_MAX_LAYERS);
    for (int i = 0; i < layers->n; i++) {
        cg_exp_layer *l = &m->layers[i];
        cg_status st = cg_exp_read_layer(doc, layers->items[i], NULL, &l->op, &l->attrs, l->name,
                                         sizeof l->name);
        if (st != CG_OK)
            return st;
        if (l->op->is_loss)
            return cg_yerror(doc, layers->items[i], "%s is a loss; put it under 'losses:'",
                             l->op->name);
        if (!l->name[0])
            snprintf(l->name, sizeof l->name, "%d", i);
        for (int j = 0; j < i; j++)
            if (strcmp(m->layers[j].name, l->name) == 0)
                return cg_yerror(doc, layers->items[i], "two layers of '%s' are named '%s'", name,
                                 l->name);
        m->n_layers++;
    }
    return CG_OK;
}

enum { ROLE_OP, ROLE_LOSS, ROLE_METRIC };

/* An op node (a layer with inputs), for the graph, the losses and the metrics; role says which
 * kind of op the place takes. */
static cg_status parse_op_node(const cg_ydoc *doc, const char *name, const cg_ynode *v,
                               const char *const *extra, int role, cg_exp_node *n) {
    n->kind = CG_EXP_OP;
    char given[CG_EXP_NAME], fallback[CG_EXP_NAME];
    cg__copy_str(fallback, sizeof fallback, name); /* name may be n->name itself */
    cg_status st = cg_exp_read_layer(doc, v, extra, &n->op.op, &n->op.attrs, given, sizeof given);
    if (st != CG_OK)
        return st;
    const cg_ynode *type = cg_ymap_get(v, "type");
    if (role == ROLE_LOSS && !n->op.op->is_loss)
        return cg_yerror(doc, type, "%s is not a loss; the losses are cross_entropy, "
                                    "binary_cross_entropy, mse, contrastive, triplet, "
                                    "similarity, kl_normal, kl_sample, gaussian_nll, cool",
                         n->op.op->name);
    if (role == ROLE_METRIC && n->op.op->backward && !n->op.op->is_loss &&
        strcmp(n->op.op->name, "add") != 0)
        return cg_yerror(doc, type, "%s is not a metric; the metrics are accuracy, "
                                    "cool_confidence, every loss (its mean per sample) and add "
                                    "(such as a negative ELBO from its two parts)",
                         n->op.op->name);
    cg__copy_str(n->name, sizeof n->name, given[0] ? given : fallback);
    cg__copy_str(n->op.name, sizeof n->op.name, n->name);
    const cg_ynode *in = cg_ymap_get(v, "inputs");
    if (!in)
        in = cg_ymap_get(v, "input");
    if (!in)
        return cg_yerror(doc, v, "'%s' needs 'inputs:' (the names of its input values)", n->name);
    st = read_name_list(doc, in, "inputs", n->inputs, CG_MAX_INPUTS, &n->n_in);
    if (st == CG_OK && (n->n_in < n->op.op->min_inputs || n->n_in > n->op.op->max_inputs))
        st = cg_yerror(doc, in, "%s takes %d to %d inputs, %d given", n->op.op->name,
                       n->op.op->min_inputs, n->op.op->max_inputs, n->n_in);
    return st;
}

static int module_index(const cg_experiment *e, const char *name) {
    for (int i = 0; i < e->n_modules; i++)
        if (strcmp(e->modules[i].name, name) == 0)
            return i;
    return -1;
}

/* Graph nodes into nodes[*count...]; modules are looked up in e. */
static cg_status parse_graph(const cg_ydoc *doc, const cg_ynode *g, const cg_experiment *e,
                             cg_exp_node *nodes, int *count) {
    if (g->kind != CG_YMAP)
        return cg_yerror(doc, g, "'graph' maps node names to {module: M, input: x}, "
                                 "{tap: M.layer} or {type: op, inputs: [...]}");
    if (*count + g->n > CG_EXP_MAX_NODES)
        return cg_yerror(doc, g, "%d graph nodes; at most %d", *count + g->n, CG_EXP_MAX_NODES);
    static const char *const extra[] = {"inputs", "input", NULL};
    for (int i = 0; i < g->n; i++) {
        cg_exp_node *n = &nodes[*count];
        memset(n, 0, sizeof *n);
        const cg_ynode *v = g->items[i];
        n->line = v->line;
        n->col = v->col;
        cg__copy_str(n->name, sizeof n->name, g->keys[i]->value);
        cg_status st = CG_OK;
        if (v->kind == CG_YMAP && cg_ymap_get(v, "module")) {
            static const char *const keys[] = {"module", "input"};
            char mod[CG_EXP_NAME];
            n->kind = CG_EXP_APPLY;
            st = cg_ycheck_keys(doc, v, "a module node", keys, 2);
            if (st == CG_OK)
                st = cg_yget_str(doc, cg_ymap_get(v, "module"), "module", mod, sizeof mod);
            if (st == CG_OK && (n->module = module_index(e, mod)) < 0)
                st = cg_yerror(doc, cg_ymap_get(v, "module"), "no module '%s' under 'model:'",
                               mod);
            const cg_ynode *in = cg_ymap_get(v, "input");
            if (st == CG_OK && !in)
                st = cg_yerror(doc, v, "node '%s' needs 'input:'", n->name);
            if (st == CG_OK)
                st = cg_yget_str(doc, in, "input", n->inputs[0], CG_EXP_NAME);
            n->n_in = 1;
        } else if (v->kind == CG_YMAP && cg_ymap_get(v, "tap")) {
            static const char *const keys[] = {"tap"};
            n->kind = CG_EXP_TAP;
            st = cg_ycheck_keys(doc, v, "a tap", keys, 1);
            if (st == CG_OK)
                st = cg_yget_str(doc, cg_ymap_get(v, "tap"), "tap", n->tap, sizeof n->tap);
            if (st == CG_OK && !strchr(n->tap, '.'))
                st = cg_yerror(doc, v, "a tap names NODE.LAYER or MODULE.LAYER, such as "
                                       "lenet.fc2, not '%s'",
                               n->tap);
        } else if (v->kind == CG_YMAP) {
            st = parse_op_node(doc, n->name, v, extra, ROLE_OP, n);
        } else {
            st = cg_yerror(doc, v, "graph node '%s' must be {module: M, input: x}, {tap: M.layer} "
                                   "or {type: op, inputs: [...]}",
                           n->name);
        }
        if (st != CG_OK)
            return st;
        (*count)++;
    }
    return CG_OK;
}

/* Gives every unnamed node of a list (losses, metrics) the op's name, or <op>_<first input>
 * where two would share it; two nodes of one name are an error at the second. */
static cg_status unique_names(const cg_ydoc *doc, const cg_ynode *list, cg_exp_node *const *nodes,
                              int n, const char *what) {
    for (int i = 0; i < n; i++) {
        if (cg_ymap_get(list->items[i], "name"))
            continue;
        bool clash = false;
        for (int j = 0; j < n && !clash; j++)
            clash = j != i && strcmp(nodes[j]->op.op->name, nodes[i]->op.op->name) == 0;
        if (clash)
            snprintf(nodes[i]->name, sizeof nodes[i]->name, "%.23s_%.23s", nodes[i]->op.op->name,
                     nodes[i]->inputs[0]);
        else
            cg__copy_str(nodes[i]->name, sizeof nodes[i]->name, nodes[i]->op.op->name);
        cg__copy_str(nodes[i]->op.name, sizeof nodes[i]->op.name, nodes[i]->name);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(nodes[i]->name, nodes[j]->name) == 0)
                return cg_yerror(doc, list->items[i],
                                 "two %s are named '%s' (the first at line %d); give this one "
                                 "another 'name:'",
                                 what, nodes[i]->name, nodes[j]->line);
    return CG_OK;
}

static cg_status parse_losses(const cg_ydoc *doc, const cg_ynode *l, cg_exp_stage *e) {
    if (l->kind != CG_YSEQ)
        return cg_yerror(doc, l, "'losses' is a list such as [{type: cross_entropy, inputs: "
                                 "[logits, y]}]");
    if (l->n > CG_EXP_MAX_LOSSES || l->n == 0)
        return cg_yerror(doc, l, "%d losses; give 1 to %d", l->n, CG_EXP_MAX_LOSSES);
    e->n_losses = 0;
    static const char *const extra[] = {"inputs", "weight", "reduction", NULL};
    for (int i = 0; i < l->n; i++) {
        cg_exp_loss *x = &e->losses[i];
        memset(x, 0, sizeof *x);
        x->weight = 1.0f;
        const cg_ynode *v = l->items[i];
        if (v->kind != CG_YMAP)
            return cg_yerror(doc, v, "a loss is a mapping with type: and inputs:");
        x->node.line = v->line;
        x->node.col = v->col;
        char name[CG_EXP_NAME];
        snprintf(name, sizeof name, "loss%d", i);
        cg_status st = parse_op_node(doc, name, v, extra, ROLE_LOSS, &x->node);
        const cg_ynode *w = cg_ymap_get(v, "weight"), *r = cg_ymap_get(v, "reduction");
        double wd;
        if (st == CG_OK && w && (st = cg_yget_float(doc, w, "weight", &wd)) == CG_OK)
            x->weight = (float)wd;
        if (st == CG_OK && w && wd < 0)
            st = cg_yerror(doc, w, "'weight' is %g; a loss weight cannot be negative (0 turns "
                                   "the loss off)",
                           wd);
        if (st == CG_OK && r) {
            static const char *const reds[] = {"mean", "sum", "batch_mean"};
            char red[16];
            st = cg_yget_choice(doc, r, "reduction", reds, 3, red, sizeof red);
            x->reduction = red[0] == 's'   ? CG_REDUCE_SUM
                           : red[0] == 'b' ? CG_REDUCE_BATCH_MEAN
                                           : CG_REDUCE_MEAN;
        }
        if (st != CG_OK)
            return st;
        e->n_losses++;
    }
    cg_exp_node *nodes[CG_EXP_MAX_LOSSES];
    for (int i = 0; i < e->n_losses; i++)
        nodes[i] = &e->losses[i].node;
    return unique_names(doc, l, nodes, e->n_losses, "losses");
}

static cg_status parse_optimizer(const cg_ydoc *doc, const cg_ynode *o, cg_optim_config *c) {
    static const char *const keys[] = {"type", "lr", "momentum", "weight_decay", "betas", "eps"};
    static const char *const kinds[] = {"adam", "sgd"};
    cg_status st = cg_ycheck_keys(doc, o, "optimizer", keys, CG__ARRAY_LEN(keys));
    char kind[8] = "adam";
    const cg_ynode *t = cg_ymap_get(o, "type");
    if (st == CG_OK && t)
        st = cg_yget_choice(doc, t, "type", kinds, 2, kind, sizeof kind);
    *c = cg_optim_defaults(kind[0] == 's' ? CG_OPTIM_SGD : CG_OPTIM_ADAM);
    double v;
    const struct {
        const char *key;
        float *dst;
    } floats[] = {{"lr", &c->lr}, {"momentum", &c->momentum}, {"weight_decay", &c->weight_decay},
                  {"eps", &c->eps}};
    for (size_t i = 0; st == CG_OK && i < CG__ARRAY_LEN(floats); i++) {
        const cg_ynode *n = cg_ymap_get(o, floats[i].key);
        if (n && (st = cg_yget_float(doc, n, floats[i].key, &v)) == CG_OK) {
            if (v < 0)
                st = cg_yerror(doc, n, "'%s' is %g; it cannot be negative", floats[i].key, v);
            *floats[i].dst = (float)v;
        }
    }
    const cg_ynode *b = cg_ymap_get(o, "betas");
    if (st == CG_OK && b) {
        if (b->kind != CG_YSEQ || b->n != 2)
            return cg_yerror(doc, b, "'betas' is [beta1, beta2], such as [0.9, 0.999]");
        double b1 = 0, b2 = 0;
        st = cg_yget_float(doc, b->items[0], "betas", &b1);
        if (st == CG_OK)
            st = cg_yget_float(doc, b->items[1], "betas", &b2);
        c->beta1 = (float)b1;
        c->beta2 = (float)b2;
        if (st == CG_OK && !(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
            st = cg_yerror(doc, b, "'betas' are [%g, %g]; each must lie in [0, 1), such as "
                                   "[0.9, 0.999]",
                           b1, b2);
    }
    return st;
}

static cg_status parse_train(const cg_ydoc *doc, const cg_ynode *t, cg_experiment *e,
                             cg_exp_stage *stage) {
    static const char *const keys[] = {"epochs", "batch", "log_interval", "split"};
    cg_status st = cg_ycheck_keys(doc, t, "train", keys, CG__ARRAY_LEN(keys));
    long v;
    const struct {
        const char *key;
        int *dst;
        long lo, hi;
    } ints[] = {{"epochs", &stage->epochs, 0, 100000},
                {"batch", &e->batch, 1, 1 << 20},
                {"log_interval", &e->log_interval, 1, 1 << 30}};
    for (size_t i = 0; st == CG_OK && i < CG__ARRAY_LEN(ints); i++) {
        const cg_ynode *n = cg_ymap_get(t, ints[i].key);
        if (n && (st = cg_yget_int(doc, n, ints[i].key, ints[i].lo, ints[i].hi, &v)) == CG_OK)
            *ints[i].dst = (int)v;
    }
    const cg_ynode *s = cg_ymap_get(t, "split");
    if (st == CG_OK && s)
        st = cg_yget_str(doc, s, "split", stage->split, sizeof stage->split);
    if (s) {
        stage->split_line = s->line;
        stage->split_col = s->col;
    }
    return st;
}

static bool collected(const cg_exp_stage *e, const char *name) {
    for (int i = 0; i < e->n_collect; i++)
        if (!strcmp(e->collect[i], name))
            return true;
    return false;
}

/* statistics: or figures: of an evaluate block; the values they read must be collected. */
/* Each kind of statistic or figure: the key naming the value it reads, the key naming what it
 * splits, masks or colours by (NULL for none), and, when that is required, what it means;
 * whether it needs `reference:`, takes `k:`, and how many `splits:` it takes (0: none; 1: may
 * take a list of one or more; 2: needs a list of two or more). */
static const struct sample_kind {
    const char *type;
    bool figure;
    const char *value_key, *by_key, *by_needed;
    bool reference, k;
    int splits;
} sample_kinds[] = {
    {"auc", false, "score", "label", "an array or value, positive where not 0", false, false, 0},
    {"mean", false, "value", "mask", NULL, false, false, 0},
    {"quantile", false, "value", NULL, NULL, false, false, 0},
    {"mean_abs_error", false, "value", "truth", "the exact value, one number per sample", false,
     false, 0},
    {"f_measure", false, "score", "label", "an integer array such as y", false, false, 0},
    {"openness", false, "label", "known", "1 where the label is a known class, such as known",
     false, false, 0},
    {"knn_accuracy", false, "value", "label", "an integer array such as y", true, true, 0},
    {"linear_separability", false, "value", "label", "an integer array with two labels", false,
     false, 0},
    {"stray", false, "value", "label", "an integer array such as y", true, false, 0},
    {"silhouette", false, "value", "label", "an integer array such as y", false, false, 2},
    {"scatter", true, "x", "colour", NULL, false, false, 1},
    {"histogram", true, "value", "groups", NULL, false, false, 0},
    {"roc", true, "score", "label", "an array or value, positive where not 0", false, false, 0},
    {"heatmap", true, "value", "at",
     "the two coordinates of each sample on a regular grid, such as the rings' grid split's x",
     false, false, 0},
    {"images", true, "values", NULL, NULL, false, false, 0},
};

/* An images figure's values: [a, b, ...] (graph values; they need not be collected), and
 * count: the samples drawn (10). */
static cg_status parse_image_values(const cg_ydoc *doc, const cg_ynode *v,
                                    cg_exp_sample_item *it) {
    const cg_ynode *n = cg_ymap_get(v, "values");
    if (!n || n->kind != CG_YSEQ || n->n < 1 || n->n > 4)
        return cg_yerror(doc, n ? n : v, "images needs 'values:', a list of 1 to 4 values that "
                                         "are images, such as [flat, recon, prior_images]");
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < n->n; i++)
        st = cg_yget_str(doc, n->items[i], "values", it->values[i], CG_EXP_NAME);
    it->n_values = n->n;
    cg__copy_str(it->value, sizeof it->value, it->values[0]);
    long count = 10;
    const cg_ynode *c = cg_ymap_get(v, "count");
    if (st == CG_OK && c)
        st = cg_yget_int(doc, c, "count", 1, 64, &count);
    it->count = (int)count;
    return st;
}

/* known: and threshold: of an f_measure statistic (no other type takes them). */
static cg_status parse_open_set_keys(const cg_ydoc *doc, const cg_ynode *v,
                                     cg_exp_sample_item *it) {
    bool f = !strcmp(it->type, "f_measure"), open = !strcmp(it->type, "openness");
    const cg_ynode *k = cg_ymap_get(v, "known"), *t = cg_ymap_get(v, "threshold");
    if (!f && ((k && !open) || t))
        return cg_yerror(doc, k && !open ? k : t, "%s takes no '%s:' (f_measure does)",
                         it->type, k && !open ? "known" : "threshold");
    cg_status st = CG_OK;
    if (k && f)
        st = cg_yget_str(doc, k, "known", it->known, sizeof it->known);
    if (st == CG_OK && t && (st = cg_yget_float(doc, t, "threshold", &it->threshold)) == CG_OK &&
        !isfinite(it->threshold))
        st = cg_yerror(doc, t, "'threshold' must be a finite number, such as 0.99");
    return st;
}

static bool block_split(const cg_exp_stage *e, const char *name) {
    for (int k = 0; k < e->n_eval_splits; k++)
        if (!strcmp(e->eval_splits[k], name))
            return true;
    return false;
}

/* reference:, k: and splits: of a statistic or figure, where its type takes them. */
static cg_status parse_sample_splits(const cg_ydoc *doc, const cg_ynode *v, const cg_exp_stage *e,
                                     const struct sample_kind *kind, cg_exp_sample_item *it) {
    bool wants_ref = kind->reference, wants_splits = kind->splits > 0;
    const cg_ynode *n = cg_ymap_get(v, "reference");
    cg_status st = CG_OK;
    if (n && !wants_ref)
        return cg_yerror(doc, n, "%s takes no 'reference:' (knn_accuracy and stray do)",
                         it->type);
    if (wants_ref && !n)
        return cg_yerror(doc, v, "%s needs 'reference:', the split whose points are the "
                                 "reference (such as train)",
                         it->type);
    if (n && (st = cg_yget_str(doc, n, "reference", it->reference, sizeof it->reference)) ==
                 CG_OK &&
        !block_split(e, it->reference))
        return cg_yerror(doc, n, "the reference split '%s' is not one of this block's "
                                 "'splits:'; add it there",
                         it->reference);
    it->k = 5;
    long k;
    if (st == CG_OK && (n = cg_ymap_get(v, "k"))) {
        if (!kind->k)
            return cg_yerror(doc, n, "%s takes no 'k:' (knn_accuracy does)", it->type);
        if ((st = cg_yget_int(doc, n, "k", 1, 1000, &k)) == CG_OK)
            it->k = (int)k;
    }
    n = cg_ymap_get(v, "splits");
    if (st == CG_OK && n && !wants_splits)
        return cg_yerror(doc, n, "%s takes no 'splits:' (silhouette and scatter do)", it->type);
    if (st == CG_OK && !n && kind->splits == 2)
        return cg_yerror(doc, v, "silhouette needs 'splits:', the splits whose points form the "
                                 "groups (such as the test set and its shifted copies)");
    if (st != CG_OK || !n)
        return st;
    int least = kind->splits;
    if (n->kind != CG_YSEQ || n->n < least || n->n > CG_MAX_SPLITS)
        return cg_yerror(doc, n, "'splits' is a list of %d to %d of this block's splits", least,
                         CG_MAX_SPLITS);
    if (cg_ymap_get(v, "split"))
        return cg_yerror(doc, n, "give 'split:' or 'splits:', not both");
    for (int i = 0; i < n->n; i++) {
        char *name = it->splits[i];
        if ((st = cg_yget_str(doc, n->items[i], "splits", name, sizeof it->splits[i])) != CG_OK)
            return st;
        if (!block_split(e, name))
            return cg_yerror(doc, n->items[i], "split '%s' is not one of this block's 'splits:'",
                             name);
        for (int j = 0; j < i; j++)
            if (!strcmp(it->splits[j], name))
                return cg_yerror(doc, n->items[i], "split '%s' is listed twice", name);
    }
    it->n_splits = n->n;
    return CG_OK;
}

static cg_status parse_sample_items(const cg_ydoc *doc, const cg_ynode *list, bool figures,
                                    cg_exp_stage *e) {
    const char *types[CG__ARRAY_LEN(sample_kinds)];
    size_t n_types = 0;
    for (size_t k = 0; k < CG__ARRAY_LEN(sample_kinds); k++)
        if (sample_kinds[k].figure == figures)
            types[n_types++] = sample_kinds[k].type;
    const char *what = figures ? "figures" : "statistics";
    if (list->kind != CG_YSEQ || list->n > CG_EXP_MAX_SAMPLE_ITEMS)
        return cg_yerror(doc, list, "'%s' is a list of up to %d entries such as %s", what,
                         CG_EXP_MAX_SAMPLE_ITEMS,
                         figures ? "{type: roc, score: score, label: anomaly}"
                                 : "{type: auc, score: score, label: anomaly}");
    cg_exp_sample_item *out = figures ? e->sample_figures : e->statistics;
    int *count = figures ? &e->n_sample_figures : &e->n_statistics;
    *count = 0;
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < list->n; i++) {
        const cg_ynode *v = list->items[i];
        cg_exp_sample_item *it = &out[i];
        memset(it, 0, sizeof *it);
        it->line = v->line;
        it->col = v->col;
        static const char *const keys[] = {"type",   "name",  "score",  "value", "x",  "label",
                                           "mask",   "colour", "color", "groups", "q", "at",
                                           "split", "reference", "k", "splits",
                                           "values", "count", "truth", "known", "threshold"};
        if (v->kind != CG_YMAP)
            return cg_yerror(doc, v, "an entry of '%s' is a mapping with type:", what);
        st = cg_ycheck_keys(doc, v, what, keys, CG__ARRAY_LEN(keys));
        const cg_ynode *t = cg_ymap_get(v, "type");
        if (st == CG_OK && !t)
            st = cg_yerror(doc, v, "an entry of '%s' needs 'type:'", what);
        if (st == CG_OK)
            st = cg_yget_choice(doc, t, "type", types, n_types, it->type, sizeof it->type);
        if (st != CG_OK)
            return st;
        const struct sample_kind *kind = sample_kinds;
        while (strcmp(kind->type, it->type) != 0)
            kind++;
        const char *vkey = kind->value_key, *bkey = kind->by_key;
        const cg_ynode *n = NULL;
        bool images = !strcmp(it->type, "images");
        if (!images && (n = cg_ymap_get(v, "values")))
            return cg_yerror(doc, n, "%s takes no 'values:' (images does)", it->type);
        if (!images && (n = cg_ymap_get(v, "count")))
            return cg_yerror(doc, n, "%s takes no 'count:' (images does)", it->type);
        if (st == CG_OK)
            st = parse_open_set_keys(doc, v, it);
        if (st != CG_OK)
            return st;
        if (images)
            st = parse_image_values(doc, v, it);
        else if (st == CG_OK && !(n = cg_ymap_get(v, vkey)))
            st = cg_yerror(doc, v, "%s needs '%s:' (a collected value)", it->type, vkey);
        if (st == CG_OK && !images)
            st = cg_yget_str(doc, n, vkey, it->value, sizeof it->value);
        it->value_line = !images && n ? n->line : v->line;
        it->value_col = !images && n ? n->col : v->col;
        if (st == CG_OK && bkey && !strcmp(bkey, "colour") && !cg_ymap_get(v, bkey))
            bkey = "color";
        if (st == CG_OK && bkey && (n = cg_ymap_get(v, bkey)))
            st = cg_yget_str(doc, n, bkey, it->by, sizeof it->by);
        if (st == CG_OK && kind->by_needed && !it->by[0])
            st = cg_yerror(doc, v, "%s needs '%s:' (%s)", it->type, kind->by_key,
                           kind->by_needed);
        double q = 0.5;
        if (st == CG_OK && !strcmp(it->type, "quantile") && (n = cg_ymap_get(v, "q")) &&
            (st = cg_yget_float(doc, n, "q", &q)) == CG_OK && !(q >= 0 && q <= 1))
            st = cg_yerror(doc, n, "'q' is %g; a quantile lies in [0, 1]", q);
        it->q = q;
        if (st == CG_OK && (n = cg_ymap_get(v, "split"))) {
            st = cg_yget_str(doc, n, "split", it->split, sizeof it->split);
            if (st == CG_OK && !block_split(e, it->split))
                st = cg_yerror(doc, n, "split '%s' is not one of this block's 'splits:'",
                               it->split);
        }
        if (st == CG_OK)
            st = parse_sample_splits(doc, v, e, kind, it);
        if (st == CG_OK && (n = cg_ymap_get(v, "name")))
            st = cg_yget_str(doc, n, "name", it->name, sizeof it->name);
        else if (!strcmp(it->type, "quantile"))
            snprintf(it->name, sizeof it->name, "q%g_%.30s", q * 100, it->value);
        else
            snprintf(it->name, sizeof it->name, "%.19s_%.27s", it->type, it->value);
        for (int j = 0; st == CG_OK && j < i; j++)
            if (!strcmp(out[j].name, it->name))
                st = cg_yerror(doc, v, "two %s are named '%s'; give this one another 'name:'",
                               what, it->name);
        *count += st == CG_OK;
    }
    return st;
}

/* collect: a list of value names, or of {value: V, name: N, draws: K, combine: C} for a value
 * read over K passes (fresh random draws each) and combined per sample. */
static cg_status parse_collect(const cg_ydoc *doc, const cg_ynode *c, cg_exp_stage *e) {
    int count = c->kind == CG_YSEQ ? c->n : 1;
    if (count > CG_EXP_MAX_COLLECT)
        return cg_yerror(doc, c, "'collect' has %d values; at most %d", count,
                         CG_EXP_MAX_COLLECT);
    e->collect_line = c->line;
    e->collect_col = c->col;
    e->n_collect = 0;
    static const char *const combines[] = {"mean", "importance"};
    static const char *const keys[] = {"value", "name", "draws", "combine"};
    cg_status st = CG_OK;
    for (int i = 0; st == CG_OK && i < count; i++) {
        const cg_ynode *item = c->kind == CG_YSEQ ? c->items[i] : c;
        e->collect_draws[i] = 1;
        e->collect_combine[i] = CG_COMBINE_MEAN;
        if (item->kind != CG_YMAP) {
            st = cg_yget_str(doc, item, "collect", e->collect_value[i], CG_EXP_NAME);
            cg__copy_str(e->collect[i], CG_EXP_NAME, e->collect_value[i]);
        } else {
            const cg_ynode *n;
            long draws = 1;
            char how[16] = "mean";
            st = cg_ycheck_keys(doc, item, "a collected value", keys, CG__ARRAY_LEN(keys));
            if (st == CG_OK && !(n = cg_ymap_get(item, "value")))
                st = cg_yerror(doc, item, "a collected value given as a mapping needs 'value:' "
                                          "(a graph value), such as {value: nlw, draws: 10, "
                                          "combine: importance, name: iwae_10}");
            if (st == CG_OK)
                st = cg_yget_str(doc, n, "value", e->collect_value[i], CG_EXP_NAME);
            cg__copy_str(e->collect[i], CG_EXP_NAME, e->collect_value[i]);
            if (st == CG_OK && (n = cg_ymap_get(item, "name")))
                st = cg_yget_str(doc, n, "name", e->collect[i], CG_EXP_NAME);
            if (st == CG_OK && (n = cg_ymap_get(item, "draws")))
                st = cg_yget_int(doc, n, "draws", 1, 10000, &draws);
            if (st == CG_OK && (n = cg_ymap_get(item, "combine")))
                st = cg_yget_choice(doc, n, "combine", combines, 2, how, sizeof how);
            e->collect_draws[i] = (int)draws;
            e->collect_combine[i] = !strcmp(how, "importance") ? CG_COMBINE_IMPORTANCE
                                                               : CG_COMBINE_MEAN;
        }
        for (int j = 0; st == CG_OK && j < i; j++)
            if (!strcmp(e->collect[j], e->collect[i]))
                st = cg_yerror(doc, item, "'%s' is collected twice; give one another 'name:'",
                               e->collect[i]);
        e->n_collect += st == CG_OK;
    }
    return st;
}

static cg_status parse_evaluate(const cg_ydoc *doc, const cg_ynode *v, cg_exp_stage *e) {
    static const char *const keys[] = {"splits",     "metrics", "collect", "statistics",
                                       "figures",    "every",   "file",  "batch"};
    cg_status st = cg_ycheck_keys(doc, v, "evaluate", keys, CG__ARRAY_LEN(keys));
    const cg_ynode *every = cg_ymap_get(v, "every");
    long ev;
    if (st == CG_OK && every && (st = cg_yget_int(doc, every, "every", 1, 100000, &ev)) == CG_OK)
        e->eval_every = (int)ev;
    const cg_ynode *eb = cg_ymap_get(v, "batch");
    if (st == CG_OK && eb && (st = cg_yget_int(doc, eb, "batch", 1, 65536, &ev)) == CG_OK)
        e->eval_batch = (int)ev;
    const cg_ynode *s = cg_ymap_get(v, "splits"), *m = cg_ymap_get(v, "metrics");
    const cg_ynode *c = cg_ymap_get(v, "collect");
    if (st == CG_OK && s) {
        if (s->kind != CG_YSEQ || s->n < 1 || s->n > CG_MAX_SPLITS)
            return cg_yerror(doc, s, "'splits' is a list of split names, such as [test_id, "
                                     "test_ood]");
        for (int i = 0; i < s->n && st == CG_OK; i++) {
            st = cg_yget_str(doc, s->items[i], "splits", e->eval_splits[i], 24);
            e->eval_split_line[i] = s->items[i]->line;
            e->eval_split_col[i] = s->items[i]->col;
        }
        e->n_eval_splits = s->n;
    }
    if (st == CG_OK && c)
        st = parse_collect(doc, c, e);
    const cg_ynode *file = cg_ymap_get(v, "file");
    if (st == CG_OK && file)
        st = cg_yget_str(doc, file, "file", e->collect_file, sizeof e->collect_file);
    if (st == CG_OK && file && !c)
        st = cg_yerror(doc, file, "'file' names the per-sample CSV of the collected values; "
                                  "this block collects none");
    if (st == CG_OK && m)
        e->n_metrics = 0;
    if (st == CG_OK && m) {
        if (m->kind != CG_YSEQ || m->n > CG_EXP_MAX_METRICS)
            return cg_yerror(doc, m, "'metrics' is a list such as [{type: accuracy, inputs: "
                                     "[logits, y]}]");
        static const char *const extra[] = {"inputs", "mask", NULL};
        for (int i = 0; i < m->n && st == CG_OK; i++) {
            cg_exp_node *n = &e->metrics[i];
            memset(n, 0, sizeof *n);
            n->line = m->items[i]->line;
            n->col = m->items[i]->col;
            if (m->items[i]->kind != CG_YMAP)
                return cg_yerror(doc, m->items[i], "a metric is a mapping with type: and inputs:");
            char name[CG_EXP_NAME];
            snprintf(name, sizeof name, "metric%d", i);
            st = parse_op_node(doc, name, m->items[i], extra, ROLE_METRIC, n);
            const cg_ynode *mask = cg_ymap_get(m->items[i], "mask");
            if (st == CG_OK && mask)
                st = cg_yget_str(doc, mask, "mask", n->mask, sizeof n->mask);
            e->n_metrics += st == CG_OK;
        }
        cg_exp_node *nodes[CG_EXP_MAX_METRICS];
        for (int i = 0; i < e->n_metrics; i++)
            nodes[i] = &e->metrics[i];

        if (st == CG_OK)
            st = unique_names(doc, m, nodes, e->n_metrics, "metrics");
        for (int i = 0; st == CG_OK && i < e->n_metrics; i++) {
            const char *name = e->metrics[i].name;
            if (!strcmp(name, "loss") || !strncmp(name, "loss.", 5) ||
                !strcmp(name, "samples_per_s"))
                st = cg_yerror(doc, m->items[i], "the metric name '%s' is the training log's "
                                                 "(loss, loss.<name>, samples_per_s); give "
                                                 "another 'name:'",
                               name);
        }
    }
    const cg_ynode *stats = cg_ymap_get(v, "statistics"), *figs = cg_ymap_get(v, "figures");
    if (st == CG_OK && stats)
        st = parse_sample_items(doc, stats, false, e);
    if (st == CG_OK && figs)
        st = parse_sample_items(doc, figs, true, e);
    for (int i = 0; st == CG_OK && i < e->n_statistics; i++)
        for (int k = 0; k < e->n_metrics; k++)
            if (!strcmp(e->statistics[i].name, e->metrics[k].name))
                st = cg_yerror(doc, stats->items[i], "'%s' names a metric already; give the "
                                                     "statistic another 'name:'",
                               e->statistics[i].name);
    return st;
}

/* One entry of `stages:`: a copy of the top-level stage, with what the entry changes. */
/* until: {value: score, threshold: 0.9, max_steps: 10000, check_every: 10} */
static cg_status parse_until(const cg_ydoc *doc, const cg_ynode *v, cg_exp_stage *sg) {
    static const char *const keys[] = {"value", "threshold", "max_steps", "check_every",
                                       "images"};
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "until: is a mapping such as {value: score, threshold: 0.9, "
                                 "max_steps: 10000}");
    cg_status st = cg_ycheck_keys(doc, v, "until", keys, CG__ARRAY_LEN(keys));
    const cg_ynode *n;
    double f;
    long k;
    sg->has_until = true;
    sg->until_line = v->line;
    sg->until_col = v->col;
    sg->until_max_steps = 10000;
    sg->until_check_every = 10;
    if (st == CG_OK && !(n = cg_ymap_get(v, "value")))
        st = cg_yerror(doc, v, "until: needs 'value:', a graph value with one number per sample");
    if (st == CG_OK)
        st = cg_yget_str(doc, n, "value", sg->until_value, sizeof sg->until_value);
    if (st == CG_OK && !(n = cg_ymap_get(v, "threshold")))
        st = cg_yerror(doc, v, "until: needs 'threshold:', what the value must reach");
    if (st == CG_OK && (st = cg_yget_float(doc, n, "threshold", &f)) == CG_OK)
        sg->until_threshold = (float)f;
    if (st == CG_OK && (n = cg_ymap_get(v, "max_steps")) &&
        (st = cg_yget_int(doc, n, "max_steps", 1, 100000000, &k)) == CG_OK)
        sg->until_max_steps = (int)k;
    if (st == CG_OK && (n = cg_ymap_get(v, "check_every")) &&
        (st = cg_yget_int(doc, n, "check_every", 1, 100000, &k)) == CG_OK)
        sg->until_check_every = (int)k;
    /* images: an image value drawn for the first 10 samples at the end (the fooling images: one
     * trial per target class), as the stage's one figure. */
    if (st == CG_OK && (n = cg_ymap_get(v, "images"))) {
        cg_exp_sample_item *it = &sg->sample_figures[sg->n_sample_figures++];
        memset(it, 0, sizeof *it);
        cg__copy_str(it->type, sizeof it->type, "images");
        it->n_values = 1;
        it->count = 10;
        it->line = it->value_line = n->line;
        it->col = it->value_col = n->col;
        st = cg_yget_str(doc, n, "images", it->values[0], sizeof it->values[0]);
        cg__copy_str(it->value, sizeof it->value, it->values[0]);
    }
    return st;
}

static cg_status parse_stage(const cg_ydoc *doc, const cg_ynode *v, const cg_experiment *e,
                             const cg_exp_stage *top, int index, cg_exp_stage *st_out) {
    static const char *const keys[] = {"name",   "split",  "graph",    "losses", "optimizer",
                                       "epochs", "freeze", "evaluate", "batch",  "until"};
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "a stage is a mapping with split:, losses:, epochs: ...");
    cg_status st = cg_ycheck_keys(doc, v, "a stage", keys, CG__ARRAY_LEN(keys));
    *st_out = *top;
    st_out->n_nodes = 0;
    snprintf(st_out->name, sizeof st_out->name, "stage%d", index + 1);
    const cg_ynode *n;
    long ep;
    if (st == CG_OK && (n = cg_ymap_get(v, "name")))
        st = cg_yget_str(doc, n, "name", st_out->name, sizeof st_out->name);
    if (st == CG_OK && (n = cg_ymap_get(v, "split"))) {
        st = cg_yget_str(doc, n, "split", st_out->split, sizeof st_out->split);
        st_out->split_line = n->line;
        st_out->split_col = n->col;
    }
    if (st == CG_OK && (n = cg_ymap_get(v, "graph")))
        st = parse_graph(doc, n, e, st_out->nodes, &st_out->n_nodes);
    if (st == CG_OK && (n = cg_ymap_get(v, "losses")))
        st = parse_losses(doc, n, st_out);
    if (st == CG_OK && (n = cg_ymap_get(v, "optimizer")))
        st = parse_optimizer(doc, n, &st_out->optimizer);
    if (st == CG_OK && (n = cg_ymap_get(v, "epochs")) &&
        (st = cg_yget_int(doc, n, "epochs", 0, 100000, &ep)) == CG_OK)
        st_out->epochs = (int)ep;
    if (st == CG_OK && (n = cg_ymap_get(v, "batch")) &&
        (st = cg_yget_int(doc, n, "batch", 1, 1 << 20, &ep)) == CG_OK)
        st_out->batch = (int)ep;
    if (st == CG_OK && (n = cg_ymap_get(v, "evaluate")))
        st = parse_evaluate(doc, n, st_out);
    if (st == CG_OK && (n = cg_ymap_get(v, "freeze"))) {
        char names[CG_EXP_MAX_MODULES][CG_EXP_NAME];
        int count = 0;
        st = read_name_list(doc, n, "freeze", names, CG_EXP_MAX_MODULES, &count);
        for (int i = 0; st == CG_OK && i < count; i++) {
            int m = module_index(e, names[i]);
            if (m < 0)
                st = cg_yerror(doc, n, "freeze names '%s', which is not a module under 'model:'",
                               names[i]);
            st_out->freeze[i] = m;
        }
        st_out->n_freeze = st == CG_OK ? count : 0;
    }
    st_out->has_until = false;
    if (st == CG_OK && (n = cg_ymap_get(v, "until"))) {
        /* no evaluation: not the top level's, and not one of its own (its one figure, the
         * images, parse_until adds) */
        st_out->n_eval_splits = st_out->n_metrics = st_out->n_collect = 0;
        st_out->n_statistics = st_out->n_sample_figures = 0;
        st = parse_until(doc, n, st_out);
        if (st == CG_OK && cg_ymap_get(v, "evaluate"))
            st = cg_yerror(doc, cg_ymap_get(v, "evaluate"),
                           "a stage with until: does not evaluate; its results are the share of "
                           "samples that reached the value and the updates they needed");
    }
    if (st == CG_OK && st_out->n_losses == 0)
        st = cg_yerror(doc, v, "stage '%s' has no losses (give 'losses:' here or at the top)",
                       st_out->name);
    return st;
}

static int variant_index(const cg_experiment *e, const char *name) {
    for (int i = 0; i < e->n_variants; i++)
        if (strcmp(e->variants[i], name) == 0)
            return i;
    return -1;
}

/* A variant name given in the report must be one of the file's. */
static cg_status known_variant(const cg_ydoc *doc, const cg_ynode *at, const cg_experiment *e,
                               const char *name) {
    if (variant_index(e, name) >= 0)
        return CG_OK;
    for (int i = 0; i < e->n_bases; i++)
        if (!strcmp(e->bases[i], name))
            return CG_OK; /* a sweep's base: its every value */
    char list[512] = "";
    for (int i = 0, used = 0; i < e->n_variants; i++)
        used += snprintf(list + used, sizeof list - (size_t)used, "%s%s", i ? ", " : "",
                         e->variants[i]);
    return cg_yerror(doc, at, "'%s' is not a variant of this experiment%s%s", name,
                     e->n_variants ? "; the variants are: " : " (it has none)", list);
}

static cg_status parse_figure(const cg_ydoc *doc, const cg_ynode *v, const cg_experiment *e,
                              cg_exp_figure *f) {
    static const char *const keys[] = {"type", "title", "metric", "splits", "variants", "x"};
    static const char *const types[] = {"epochs", "box", "sweep"};
    memset(f, 0, sizeof *f);
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "a figure is a mapping such as {type: epochs, metric: accuracy, "
                                 "splits: [test_id, test_ood]}");
    cg_status st = cg_ycheck_keys(doc, v, "a figure", keys, CG__ARRAY_LEN(keys));
    const cg_ynode *n;
    cg__copy_str(f->type, sizeof f->type, "epochs");
    if (st == CG_OK && (n = cg_ymap_get(v, "type")))
        st = cg_yget_choice(doc, n, "type", types, CG__ARRAY_LEN(types), f->type, sizeof f->type);
    if (st == CG_OK && (n = cg_ymap_get(v, "title")))
        st = cg_yget_str(doc, n, "title", f->title, sizeof f->title);
    if (st == CG_OK && !(n = cg_ymap_get(v, "metric")))
        st = cg_yerror(doc, v, "a figure needs 'metric:' (the metric it plots, such as accuracy)");
    if (st == CG_OK && n->kind == CG_YSEQ) { /* [loss, nelbo]: the first each split has */
        char names[4][CG_EXP_NAME];
        int count = 0;
        st = read_name_list(doc, n, "metric", names, 4, &count);
        if (st == CG_OK && count == 0)
            st = cg_yerror(doc, n, "'metric' names a metric, or a list of them");
        for (int i = 0; st == CG_OK && i < count; i++)
            cg__copy_str(i ? f->more[i - 1] : f->metric, CG_EXP_NAME, names[i]);
        f->n_more = st == CG_OK ? count - 1 : 0;
    } else if (st == CG_OK) {
        st = cg_yget_str(doc, n, "metric", f->metric, sizeof f->metric);
    }
    if (st == CG_OK && f->n_more && strcmp(f->type, "epochs") != 0)
        st = cg_yerror(doc, n, "a %s figure plots one metric; a list of metrics is for epochs "
                               "figures",
                       f->type);
    bool sweep = !strcmp(f->type, "sweep");
    if (st == CG_OK && (n = cg_ymap_get(v, "x")) && !sweep)
        st = cg_yerror(doc, n, "a %s figure takes no 'x:' (a sweep figure does)", f->type);
    if (st == CG_OK && sweep && !e->n_sweep)
        st = cg_yerror(doc, v, "a sweep figure needs the file's 'sweep:' (it plots a metric over "
                               "the sweep's values)");
    if (st == CG_OK && sweep && !n)
        st = cg_yerror(doc, v, "a sweep figure needs 'x:', the metric on the horizontal axis "
                               "(such as openness)");
    if (st == CG_OK && sweep)
        st = cg_yget_str(doc, n, "x", f->x, sizeof f->x);
    if (st == CG_OK && (n = cg_ymap_get(v, "splits"))) {
        char names[4][CG_EXP_NAME];
        st = read_name_list(doc, n, "splits", names, 4, &f->n_splits);
        for (int i = 0; st == CG_OK && i < f->n_splits; i++)
            cg__copy_str(f->splits[i], sizeof f->splits[i], names[i]);
    }
    if (st == CG_OK && (n = cg_ymap_get(v, "variants"))) {
        st = read_name_list(doc, n, "variants", f->variants, CG_EXP_MAX_VARIANTS, &f->n_variants);
        for (int i = 0; st == CG_OK && i < f->n_variants; i++)
            st = known_variant(doc, n->kind == CG_YSEQ ? n->items[i] : n, e, f->variants[i]);
    }
    return st;
}

/* One column of the paper's numbers: {metric: test/accuracy, values: {variant: "78.26 ± 3.26"}}
 * (the mapping may hold source: too, where it is the paper: mapping itself). */
static cg_status parse_paper_col(const cg_ydoc *doc, const cg_ynode *v, cg_experiment *e,
                                 const char *const *keys, size_t n_keys, cg_exp_paper_col *col) {
    cg_status st = cg_ycheck_keys(doc, v, "paper", keys, n_keys);
    const cg_ynode *n = NULL;
    if (st == CG_OK && !(n = cg_ymap_get(v, "metric")))
        st = cg_yerror(doc, v, "paper: needs 'metric:', the split and metric its numbers sit "
                               "beside, such as test/accuracy");
    if (st == CG_OK)
        st = cg_yget_str(doc, n, "metric", col->metric, sizeof col->metric);
    if (st == CG_OK && !strchr(col->metric, '/'))
        st = cg_yerror(doc, n, "'%s': write the metric as SPLIT/METRIC, such as test/accuracy",
                       col->metric);
    const cg_ynode *vals = st == CG_OK ? cg_ymap_get(v, "values") : NULL;
    if (st == CG_OK && (!vals || vals->kind != CG_YMAP || vals->n > CG_EXP_MAX_VARIANTS))
        return cg_yerror(doc, vals ? vals : v, "paper: 'values' maps variants to the paper's "
                                               "numbers, such as {none: '78.26 ± 3.26'}");
    for (int i = 0; st == CG_OK && i < vals->n; i++) {
        cg__copy_str(col->variant[i], CG_EXP_NAME, vals->keys[i]->value);
        st = known_variant(doc, vals->keys[i], e, col->variant[i]);
        if (st == CG_OK)
            st = cg_yget_str(doc, vals->items[i], "values", col->value[i], sizeof col->value[i]);
        col->n += st == CG_OK;
    }
    return st;
}

/* report: paper: {source: ..., metric: test/accuracy, values: {variant: "78.26 ± 3.26"}}, or
 * {source: ..., columns: [{metric: ..., values: {...}}, ...]} for several metrics. */
static cg_status parse_paper(const cg_ydoc *doc, const cg_ynode *v, cg_experiment *e) {
    static const char *const keys[] = {"source", "metric", "values", "columns"};
    static const char *const col_keys[] = {"metric", "values"};
    cg_exp_report *r = &e->report;
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "paper: is a mapping with source:, and metric: and values: (or "
                                 "columns:, a list of them)");
    const cg_ynode *n;
    cg_status st = CG_OK;
    if ((n = cg_ymap_get(v, "source")))
        st = cg_yget_str(doc, n, "source", r->paper_source, sizeof r->paper_source);
    const cg_ynode *cols = cg_ymap_get(v, "columns");
    if (st != CG_OK)
        return st;
    if (!cols) {
        r->n_paper_cols = 1;
        return parse_paper_col(doc, v, e, keys, 3, &r->paper[0]);
    }
    if (cg_ymap_get(v, "metric") || cg_ymap_get(v, "values"))
        return cg_yerror(doc, cols, "paper: takes columns: or metric: and values:, not both");
    st = cg_ycheck_keys(doc, v, "paper", keys, CG__ARRAY_LEN(keys));
    if (st == CG_OK && (cols->kind != CG_YSEQ || cols->n < 1 || cols->n > CG_EXP_MAX_PAPER_COLS))
        return cg_yerror(doc, cols, "paper: columns: is a list of 1 to %d {metric:, values:}",
                         CG_EXP_MAX_PAPER_COLS);
    for (int i = 0; st == CG_OK && i < cols->n; i++)
        st = parse_paper_col(doc, cols->items[i], e, col_keys, 2, &r->paper[r->n_paper_cols++]);
    return st;
}

static cg_status parse_report(const cg_ydoc *doc, const cg_ynode *v, cg_experiment *e) {
    static const char *const keys[] = {"reference", "figures", "paper"};
    cg_exp_report *r = &e->report;
    memset(r, 0, sizeof *r);
    cg_status st = cg_ycheck_keys(doc, v, "report", keys, CG__ARRAY_LEN(keys));
    const cg_ynode *n;
    if (st == CG_OK && (n = cg_ymap_get(v, "reference")) && n->kind == CG_YMAP) {
        if (n->n > CG_EXP_MAX_VARIANTS)
            return cg_yerror(doc, n, "'reference' pairs at most %d variants", CG_EXP_MAX_VARIANTS);
        for (int i = 0; st == CG_OK && i < n->n; i++) {
            cg__copy_str(r->pair_variant[i], CG_EXP_NAME, n->keys[i]->value);
            st = known_variant(doc, n->keys[i], e, r->pair_variant[i]);
            if (st == CG_OK)
                st = cg_yget_str(doc, n->items[i], "reference", r->pair_reference[i],
                                 CG_EXP_NAME);
            if (st == CG_OK)
                st = known_variant(doc, n->items[i], e, r->pair_reference[i]);
            r->n_pairs += st == CG_OK;
        }
    } else if (st == CG_OK && n) {
        st = cg_yget_str(doc, n, "reference", r->reference, sizeof r->reference);
        if (st == CG_OK)
            st = known_variant(doc, n, e, r->reference);
    }
    if (st == CG_OK && (n = cg_ymap_get(v, "figures"))) {
        if (n->kind != CG_YSEQ || n->n > CG_EXP_MAX_FIGURES)
            return cg_yerror(doc, n, "'figures' is a list of up to %d figures",
                             CG_EXP_MAX_FIGURES);
        for (int i = 0; st == CG_OK && i < n->n; i++)
            st = parse_figure(doc, n->items[i], e, &r->figures[r->n_figures++]);
    }
    if (st == CG_OK && (n = cg_ymap_get(v, "paper")))
        st = parse_paper(doc, n, e);
    return st;
}

/* The report the pipeline gives when the experiment has no `report:`; its variant lists are
 * the file's own, so only what the pipeline says of figures is taken. */
static cg_status default_report(cg_experiment *e) {
    const cg_pipeline *p = cg_pipeline_find(e->data.pipeline);
    memset(&e->report, 0, sizeof e->report);
    if (!p || !p->default_report)
        return CG_OK;
    char what[64];
    snprintf(what, sizeof what, "the %s pipeline's default report", p->name);
    cg_ydoc *doc;
    cg_status st = cg_ydoc_parse(what, p->default_report, strlen(p->default_report), &doc);
    if (st == CG_OK)
        st = parse_report(doc, doc->root, e);
    cg_ydoc_free(doc);
    return st;
}

/* sweep: {key: data.classes, values: {c0: [0], c1: [1]}}: the file's variants become its
 * bases, and the run's variants every base at every value. */
static cg_status parse_sweep(const cg_ydoc *doc, const cg_ynode *n, cg_experiment *e) {
    static const char *const keys[] = {"key", "values"};
    const char *example = "such as {key: data.classes, values: {c0: [0], c1: [1]}}";
    if (n->kind != CG_YMAP)
        return cg_yerror(doc, n, "'sweep' is a mapping with key: and values:, %s", example);
    cg_status st = cg_ycheck_keys(doc, n, "sweep", keys, 2);
    const cg_ynode *k = cg_ymap_get(n, "key"), *vals = cg_ymap_get(n, "values");
    if (st == CG_OK && (!k || !vals))
        st = cg_yerror(doc, n, "'sweep' needs key: (a dotted key) and values: (names mapped to "
                               "values), %s", example);
    if (st == CG_OK)
        st = cg_yget_str(doc, k, "key", e->sweep_key, sizeof e->sweep_key);
    if (st != CG_OK)
        return st;
    if (!strcmp(e->sweep_key, "sweep") || !strncmp(e->sweep_key, "sweep.", 6) ||
        !strcmp(e->sweep_key, "variants") || !strncmp(e->sweep_key, "variants.", 9))
        return cg_yerror(doc, k, "a sweep cannot set '%s'", e->sweep_key);
    if (vals->kind != CG_YMAP || vals->n < 1)
        return cg_yerror(doc, vals, "sweep 'values' maps names to values, %s", example);
    int bases = e->n_variants ? e->n_variants : 1;
    if ((long)bases * vals->n > CG_EXP_MAX_VARIANTS)
        return cg_yerror(doc, vals, "the sweep makes %d variants (%d variant%s x %d values); at "
                                    "most %d run at once: sweep fewer values, or split the file",
                         bases * vals->n, bases, bases == 1 ? "" : "s", vals->n,
                         CG_EXP_MAX_VARIANTS);
    e->n_bases = e->n_variants;
    memcpy(e->bases, e->variants, sizeof e->bases);
    for (int i = 0; i < vals->n; i++) {
        const char *name = vals->keys[i]->value;
        bool ok = name[0] != '\0' && strlen(name) < 24;
        for (const char *c = name; ok && *c; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                 (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
        if (!ok)
            return cg_yerror(doc, vals->keys[i], "sweep value name '%s': use up to 23 letters, "
                                                 "digits, '_' or '-', such as k3",
                             name);
        cg__copy_str(e->sweep[i], CG_EXP_NAME, name);
    }
    e->n_sweep = vals->n;
    e->n_variants = 0;
    for (int b = 0; b < bases; b++)
        for (int i = 0; i < e->n_sweep; i++) {
            char made[2 * CG_EXP_NAME + 2];
            cg__sweep_name(made, sizeof made, e->n_bases ? e->bases[b] : NULL, e->sweep[i]);
            if (strlen(made) >= CG_EXP_NAME)
                return cg_yerror(doc, vals->keys[i], "the variant name '%s' is longer than %d "
                                                     "characters: shorten the variant's or the "
                                                     "value's name",
                                 made, CG_EXP_NAME - 1);
            cg__copy_str(e->variants[e->n_variants++], CG_EXP_NAME, made);
        }
    return CG_OK;
}

static cg_status parse(const cg_ydoc *doc, cg_experiment *e) {
    cg_status st = cg_exp_data_parse(doc, &e->data);
    if (st != CG_OK)
        return st;
    const cg_ynode *root = doc->root;
    e->repeats = 1;
    e->batch = 64;
    e->log_interval = 50;
    /* The top-level stage: what a file without stages trains, and what stages start from. */
    static cg_exp_stage top;
    memset(&top, 0, sizeof top);
    snprintf(top.name, sizeof top.name, "train");
    snprintf(top.split, sizeof top.split, "train");
    top.epochs = 1;
    top.optimizer = cg_optim_defaults(CG_OPTIM_ADAM);
    long v;
    const cg_ynode *n;
    if ((n = cg_ymap_get(root, "repeats")) &&
        (st = cg_yget_int(doc, n, "repeats", 1, CG_EXP_MAX_REPEATS, &v)) == CG_OK)
        e->repeats = (int)v;
    if (st == CG_OK && (n = cg_ymap_get(root, "device")))
        st = cg_yget_str(doc, n, "device", e->device, sizeof e->device);
    if (st == CG_OK && (n = cg_ymap_get(root, "init")))
        st = cg_yget_str(doc, n, "init", e->init, sizeof e->init);
    const cg_ynode *model = cg_ymap_get(root, "model");
    if (st == CG_OK && !model)
        st = cg_yerror(doc, root, "the experiment has no 'model:' (named modules, each a list of "
                                  "layers)");
    if (st == CG_OK && model->kind != CG_YMAP)
        st = cg_yerror(doc, model, "'model' maps module names to lists of layers (or to one layer)");
    for (int i = 0; st == CG_OK && i < model->n; i++) {
        if (e->n_modules == CG_EXP_MAX_MODULES)
            return cg_yerror(doc, model->keys[i], "more than %d modules", CG_EXP_MAX_MODULES);
        st = parse_module(doc, model->keys[i]->value, model->items[i], &e->modules[e->n_modules]);
        e->n_modules += st == CG_OK;
    }
    const cg_ynode *stages = cg_ymap_get(root, "stages");
    const cg_ynode *graph = cg_ymap_get(root, "graph");
    if (st == CG_OK && !graph && !stages)
        st = cg_yerror(doc, root, "the experiment has no 'graph:' (which module applies to which "
                                  "input)");
    if (st == CG_OK && graph)
        st = parse_graph(doc, graph, e, e->nodes, &e->n_nodes);
    const cg_ynode *losses = cg_ymap_get(root, "losses");
    if (st == CG_OK && !losses && !stages)
        st = cg_yerror(doc, root, "the experiment has no 'losses:'");
    if (st == CG_OK && losses)
        st = parse_losses(doc, losses, &top);
    if (st == CG_OK && (n = cg_ymap_get(root, "optimizer")))
        st = parse_optimizer(doc, n, &top.optimizer);
    if (st == CG_OK && (n = cg_ymap_get(root, "train")))
        st = parse_train(doc, n, e, &top);
    if (st == CG_OK && (n = cg_ymap_get(root, "evaluate")))
        st = parse_evaluate(doc, n, &top);
    if (st == CG_OK && stages) {
        if (stages->kind != CG_YSEQ || stages->n < 1 || stages->n > CG_EXP_MAX_STAGES)
            return cg_yerror(doc, stages, "'stages' is a list of 1 to %d stages",
                             CG_EXP_MAX_STAGES);
        for (int i = 0; st == CG_OK && i < stages->n; i++)
            st = parse_stage(doc, stages->items[i], e, &top, i, &e->stages[i]);
        e->n_stages = st == CG_OK ? stages->n : 0;
        e->staged = true;
    } else if (st == CG_OK) {
        e->stages[0] = top;
        e->n_stages = 1;
    }
    if (st == CG_OK && (n = cg_ymap_get(root, "variants"))) {
        if (n->kind != CG_YMAP || n->n > CG_EXP_MAX_VARIANTS)
            return cg_yerror(doc, n, "'variants' maps up to %d variant names to overrides",
                             CG_EXP_MAX_VARIANTS);
        for (int i = 0; i < n->n; i++) {
            /* Names are shown in tables and made safe for file names (descriptor-<name>.yaml);
             * one that would be empty there, or only dots, or not a line of text, is refused. */
            const char *name = n->keys[i]->value;
            bool ok = name[0] != '\0' && strlen(name) < CG_EXP_NAME &&
                      strspn(name, ". ") < strlen(name);
            for (const char *c = name; ok && *c; c++)
                ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
            if (!ok)
                return cg_yerror(doc, n->keys[i], "variant name '%s': give a name of 1 to %d "
                                                  "characters, not only dots or spaces, on one "
                                                  "line, such as lambda_025",
                                 name, CG_EXP_NAME - 1);
            cg__copy_str(e->variants[i], CG_EXP_NAME, name);
        }
        e->n_variants = n->n;
    }
    if (st == CG_OK && (n = cg_ymap_get(root, "sweep")))
        st = parse_sweep(doc, n, e);
    if (st == CG_OK && (n = cg_ymap_get(root, "report")))
        st = parse_report(doc, n, e);
    else if (st == CG_OK)
        st = default_report(e);
    return st;
}

int cg_exp_stage_batch(const cg_experiment *e, int stage) {
    return e->stages[stage].batch > 0 ? e->stages[stage].batch : e->batch;
}

int cg_exp_stage_batch_on(const cg_experiment *e, int stage, const cg_split *split) {
    return e->stages[stage].has_until && split ? cg_split_count(split)
                                               : cg_exp_stage_batch(e, stage);
}

/* The document with a variant's and the --set overrides applied. */
static cg_status load_resolved(const char *path, const char *variant, const char *const *sets,
                               int n_sets, cg_ydoc **out) {
    cg_status st = cg_ydoc_load(path, out);
    if (st != CG_OK)
        return st;
    if (variant && *variant)
        st = apply_variant(*out, variant);
    for (int i = 0; st == CG_OK && i < n_sets; i++)
        st = apply_set(*out, sets[i]);
    if (st != CG_OK) {
        cg_ydoc_free(*out);
        *out = NULL;
    }
    return st;
}

/* The data folders (relative to the experiment file) as absolute paths, so that the written
 * descriptor runs from wherever it is kept. */
static void absolute_data_paths(cg_ydoc *doc, const char *file) {
    cg_ynode *data = cg_ymap_get(doc->root, "data");
    static const char *const keys[] = {"path", "cifar10"};
    char dir[4096], joined[8300], real[4096];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    for (size_t k = 0; data && data->kind == CG_YMAP && k < CG__ARRAY_LEN(keys); k++) {
        cg_ynode *n = cg_ymap_get(data, keys[k]);
        if (!n || n->kind != CG_YSCALAR || !n->value || n->value[0] == '/' || !n->value[0])
            continue;
        snprintf(joined, sizeof joined, "%s/%s", dir, n->value);
        char *abs = NULL, *last = strrchr(joined, '/');
        if (realpath(joined, real)) {
            abs = strdup(real);
        } else if (last) { /* a folder not there (yet): its parent made absolute */
            *last = '\0';
            char tail[4096];
            snprintf(tail, sizeof tail, "%s", last + 1);
            if (realpath(joined, real) && snprintf(joined, sizeof joined, "%s/%s", real, tail) > 0)
                abs = strdup(joined);
        }
        if (abs) {
            free(n->value);
            n->value = abs;
        }
    }
}

cg_status cg_experiment_write_resolved(const char *path, const char *variant,
                                       const char *const *sets, int n_sets, const char *header,
                                       const char *out_path) {
    cg_ydoc *doc;
    cg_status st = load_resolved(path, variant, sets, n_sets, &doc);
    if (st != CG_OK)
        return st;
    absolute_data_paths(doc, path);
    FILE *f = fopen(out_path, "w");
    if (!f) {
        cg_ydoc_free(doc);
        return cg__error(CG_ERR_IO, "cannot write %s", out_path);
    }
    fprintf(f, "# %s%s%s, as run (the variant's and the command line's overrides applied)\n",
            path, variant && *variant ? ", variant " : "", variant && *variant ? variant : "");
    for (const char *h = header; h && *h;) {
        const char *nl = strchr(h, '\n');
        int len = nl ? (int)(nl - h) : (int)strlen(h);
        fprintf(f, "# %.*s\n", len, h);
        h = nl ? nl + 1 : h + len;
    }
    cg_ydoc_write(doc->root, f);
    cg_ydoc_free(doc);
    return fclose(f) == 0 ? CG_OK : cg__error(CG_ERR_IO, "writing %s failed", out_path);
}

cg_status cg_experiment_load(const char *path, const char *variant, const char *const *sets,
                             int n_sets, cg_experiment *out) {
    memset(out, 0, sizeof *out);
    cg_ydoc *doc;
    cg_status st = load_resolved(path, variant, sets, n_sets, &doc);
    if (st != CG_OK)
        return st;
    if (st == CG_OK)
        st = parse(doc, out);
    cg__copy_str(out->file, sizeof out->file, path);
    cg__copy_str(out->variant, sizeof out->variant, variant ? variant : "");
    cg_ydoc_free(doc);
    return st;
}

/* ---- building the graph ---- */

struct cg_exp_named {
    char name[2 * CG_EXP_NAME + 2];
    int value;
};

typedef struct scope {
    cg_exp_named items[CG_GRAPH_MAX_VALUES];
    int n;
    /* Names left out of this split's graph, each with the name that caused it. */
    char left_out[CG_EXP_MAX_NODES * 2][CG_EXP_NAME];
    char cause[CG_EXP_MAX_NODES * 2][CG_EXP_NAME];
    int n_left_out;
} scope;

static void define(scope *s, const char *name, int value) {
    if (s->n < CG_GRAPH_MAX_VALUES) {
        cg__copy_str(s->items[s->n].name, sizeof s->items[s->n].name, name);
        s->items[s->n++].value = value;
    }
}

static int lookup(const scope *s, const char *name) {
    for (int i = s->n - 1; i >= 0; i--)
        if (strcmp(s->items[i].name, name) == 0)
            return s->items[i].value;
    return -1;
}

/* Why name is missing from this split's graph: the array or name that caused it, or NULL when
 * it was never left out. */
static const char *left_out_cause(const scope *s, const char *name) {
    for (int i = 0; i < s->n_left_out; i++)
        if (strcmp(s->left_out[i], name) == 0)
            return s->cause[i];
    return NULL;
}

static void leave_out(scope *s, const char *name, const char *cause) {
    if (s->n_left_out < (int)CG__ARRAY_LEN(s->left_out)) {
        cg__copy_str(s->left_out[s->n_left_out], CG_EXP_NAME, name);
        cg__copy_str(s->cause[s->n_left_out++], CG_EXP_NAME, cause);
    }
}

/* Whether name is an array of some split of the data. */
static bool array_somewhere(const cg_dataset *d, const char *name) {
    for (int i = 0; d && i < d->n_splits; i++)
        for (int k = 0; k < d->splits[i].n_arrays; k++)
            if (strcmp(d->splits[i].arrays[k].name, name) == 0)
                return true;
    return false;
}

static cg_status unknown_value(const cg_experiment *e, const cg_exp_node *n, const char *name,
                               const scope *s) {
    char list[1024] = "";
    size_t used = 0;
    for (int i = 0; i < s->n && used < sizeof list; i++)
        if (!strchr(s->items[i].name, '.'))
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                                     s->items[i].name);
    return cg__error(CG_ERR_PARSE,
                     "%s:%d:%d: '%s' uses '%s', which is not defined before it; the values so "
                     "far are: %s (and module layers as NODE.LAYER)",
                     e->file, n->line, n->col, n->name, name, list);
}

/* Resolves the inputs of n. A name this split cannot give (an array of another split, or a
 * node left out for that) leaves *missing set to the cause and returns CG_OK; a name no split
 * or node gives is an error. */
static cg_status resolve_names(const cg_experiment *e, const cg_exp_node *n, const char *const *names,
                               int count, const scope *s, const cg_dataset *data, int *ids,
                               const char **missing) {
    *missing = NULL;
    for (int k = 0; k < count; k++) {
        if ((ids[k] = lookup(s, names[k])) >= 0)
            continue;
        const char *cause = left_out_cause(s, names[k]);
        char head[CG_EXP_NAME];
        cg__copy_str(head, sizeof head, names[k]);
        char *dot = strchr(head, '.');
        if (dot)
            *dot = '\0';
        if (!cause && dot)
            cause = left_out_cause(s, head);
        if (!cause && data && array_somewhere(data, names[k]))
            cause = names[k];
        if (!cause)
            return unknown_value(e, n, names[k], s);
        *missing = cause;
        return CG_OK;
    }
    return CG_OK;
}

static cg_status resolve_inputs(const cg_experiment *e, const cg_exp_node *n, const scope *s,
                                const cg_dataset *data, int *ids, const char **missing) {
    const char *names[CG_MAX_INPUTS];
    for (int k = 0; k < n->n_in; k++)
        names[k] = n->inputs[k];
    return resolve_names(e, n, names, n->n_in, s, data, ids, missing);
}

static cg_status located(const cg_experiment *e, const cg_exp_node *n, cg_status st) {
    if (st == CG_OK || n->line == 0)
        return st;
    return cg__error_prefix(st, "%s:%d:%d", e->file, n->line, n->col);
}

/* "x, y, bg" */
static void array_list(const cg_split *split, char *out, size_t cap) {
    out[0] = '\0';
    for (int i = 0, used = 0; i < split->n_arrays && (size_t)used < cap; i++)
        used += snprintf(out + used, cap - (size_t)used, "%s%s", i ? ", " : "",
                         split->arrays[i].name);
}

static cg_status cannot_give(const cg_experiment *e, const cg_exp_node *n, const char *what,
                             const cg_split *split, const char *cause) {
    char list[512];
    array_list(split, list, sizeof list);
    return cg__error(CG_ERR_PARSE,
                     "%s:%d:%d: %s '%s' needs '%s', which split '%s' does not have (its arrays: "
                     "%s)",
                     e->file, n->line, n->col, what, n->name, cause, split->name, list);
}

/* Adds one module application (node n, module m) layer by layer. Parameters take the module's
 * name (PyTorch's names) when a shared module is first applied in this graph; an unshared
 * module applied again gets parameters of its own, named after the node, unless this node is
 * the module's first application in the experiment. */
static cg_status apply_module(cg_graph *g, const cg_experiment *e, const cg_exp_node *n,
                              bool first_here, bool first_anywhere, int (*slots)[CG_MAX_PARAMS],
                              int *n_slots, scope *s, int *v) {
    const cg_exp_module *m = &e->modules[n->module];
    cg_status st = CG_OK;
    for (int l = 0; l < m->n_layers && st == CG_OK; l++) {
        const cg_exp_layer *layer = &m->layers[l];
        bool fresh = first_here || !m->share;
        char pname[2 * CG_EXP_NAME + 2], vname[2 * CG_EXP_NAME + 2];
        bool whole = !layer->name[0]; /* a one-layer module: no layer name in its parameters */
        snprintf(vname, sizeof vname, "%s.%s", n->name, whole ? "0" : layer->name);
        snprintf(pname, sizeof pname, "%s%s%s", m->share || first_anywhere ? m->name : n->name,
                 whole ? "" : ".", layer->name);
        int prev = *v;
        if (fresh)
            st = cg_graph_layer(g, pname, layer->op, &layer->attrs, &prev, 1, n->module, v,
                                slots[l], &n_slots[l]);
        else
            st = cg_graph_node(g, vname, layer->op, &layer->attrs, &prev, 1, slots[l], n_slots[l],
                               v);
        st = located(e, n, st);
        if (st == CG_OK) {
            define(s, vname, *v);
            if (first_here && !whole) {
                snprintf(vname, sizeof vname, "%s.%s", m->name, layer->name);
                define(s, vname, *v);
            }
        }
    }
    return st;
}

/* Marks the node that defines name for a node at index `before` (the last one before it, as
 * lookup finds it), and through it every node it reads. A name NODE.LAYER is a layer of that
 * node, MODULE.LAYER a layer of the module's first application; arrays mark nothing. */
static void mark_wanted(const cg_experiment *e, const cg_exp_node *const *nodes, int before,
                        const char *name, bool *wanted) {
    char head[CG_EXP_NAME];
    cg__copy_str(head, sizeof head, name);
    char *dot = strchr(head, '.');
    if (dot)
        *dot = '\0';
    int at = -1;
    for (int i = before - 1; i >= 0 && at < 0; i--)
        if (!strcmp(nodes[i]->name, name) || (dot && !strcmp(nodes[i]->name, head)))
            at = i;
    int m = dot && at < 0 ? module_index(e, head) : -1;
    for (int i = 0; m >= 0 && i < before && at < 0; i++)
        if (nodes[i]->kind == CG_EXP_APPLY && nodes[i]->module == m)
            at = i;
    if (at < 0 || wanted[at])
        return;
    wanted[at] = true;
    const cg_exp_node *n = nodes[at];
    if (n->kind == CG_EXP_TAP)
        mark_wanted(e, nodes, at, n->tap, wanted);
    for (int k = 0; n->kind != CG_EXP_TAP && k < n->n_in; k++)
        mark_wanted(e, nodes, at, n->inputs[k], wanted);
}

/* Which graph nodes this graph needs: those its losses (training) or its metrics, masks and
 * collected values (evaluation) read, directly or not. The others are left out, so a training
 * step spends no launches on scores that only evaluation reads, nor evaluation on losses. */
static void wanted_nodes(const cg_experiment *e, const cg_exp_stage *sg,
                         const cg_exp_node *const *nodes, int n_nodes, bool eval, bool *wanted) {
    memset(wanted, 0, (size_t)n_nodes * sizeof *wanted);
    for (int i = 0; i < (eval ? sg->n_metrics : sg->n_losses); i++) {
        const cg_exp_node *r = eval ? &sg->metrics[i] : &sg->losses[i].node;
        for (int k = 0; k < r->n_in; k++)
            mark_wanted(e, nodes, n_nodes, r->inputs[k], wanted);
        if (r->mask[0])
            mark_wanted(e, nodes, n_nodes, r->mask, wanted);
    }
    for (int i = 0; eval && i < sg->n_collect; i++)
        mark_wanted(e, nodes, n_nodes, sg->collect_value[i], wanted);
    if (!eval && sg->has_until) {
        mark_wanted(e, nodes, n_nodes, sg->until_value, wanted);
        for (int i = 0; i < sg->n_sample_figures; i++)
            mark_wanted(e, nodes, n_nodes, sg->sample_figures[i].values[0], wanted);
    }
    for (int i = 0; eval && i < sg->n_sample_figures; i++)
        for (int k = 0; k < sg->sample_figures[i].n_values; k++)
            mark_wanted(e, nodes, n_nodes, sg->sample_figures[i].values[k], wanted);
}

static cg_status build(const cg_experiment *e, int stage, cg_context *ctx, const cg_split *split,
                       int batch, uint64_t seed, const cg_exp_build *how, cg_exp_graph *out) {
    if (stage < 0 || stage >= e->n_stages)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "no stage %d", stage);
    const cg_exp_stage *sg = &e->stages[stage];
    const cg_dataset *data = how->data;
    /* The shared nodes, then the stage's own. */
    const cg_exp_node *nodes[2 * CG_EXP_MAX_NODES];
    int n_nodes = 0;
    for (int i = 0; i < e->n_nodes; i++)
        nodes[n_nodes++] = &e->nodes[i];
    for (int i = 0; i < sg->n_nodes; i++)
        nodes[n_nodes++] = &sg->nodes[i];
    memset(out, 0, sizeof *out);
    for (int i = 0; i < CG_MAX_ARRAYS; i++)
        out->inputs[i] = -1;
    for (int i = 0; i < CG_EXP_MAX_METRICS; i++)
        out->metric_slots[i] = out->metric_count_slots[i] = -1;
    for (int i = 0; i < CG_EXP_MAX_COLLECT; i++)
        out->collect[i] = -1;
    cg_graph *g;
    cg_status st = cg_graph_create(ctx, batch, &g);
    if (st != CG_OK)
        return st;
    scope *s = calloc(1, sizeof *s);
    if (!s) {
        cg_graph_destroy(g);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to build the graph");
    }
    for (int i = 0; i < split->n_arrays && st == CG_OK; i++) {
        const cg_array *a = &split->arrays[i];
        cg_shape sample = {a->shape.ndim - 1, {a->shape.d[1], a->shape.d[2], a->shape.d[3], 0}};
        st = cg_graph_input(g, a->name, &sample, a->dtype, &out->inputs[i]);
        define(s, a->name, out->inputs[i]);
    }
    /* Per module: the parameter slots of each layer once created, and how often applied. */
    int slots[CG_EXP_MAX_MODULES][CG_EXP_MAX_LAYERS][CG_MAX_PARAMS];
    int n_slots[CG_EXP_MAX_MODULES][CG_EXP_MAX_LAYERS];
    int applied[CG_EXP_MAX_MODULES] = {0}, first_node[CG_EXP_MAX_MODULES];
    for (int m = 0; m < CG_EXP_MAX_MODULES; m++)
        first_node[m] = -1;
    for (int i = n_nodes - 1; i >= 0; i--)
        if (nodes[i]->kind == CG_EXP_APPLY)
            first_node[nodes[i]->module] = i;
    int op_group = e->n_modules; /* parameters of op nodes outside modules */
    bool wanted[2 * CG_EXP_MAX_NODES];
    wanted_nodes(e, sg, nodes, n_nodes, how->eval, wanted);
    for (int i = 0; i < n_nodes && st == CG_OK; i++) {
        const cg_exp_node *n = nodes[i];
        int ids[CG_MAX_INPUTS], v = -1;
        const char *missing = NULL;
        if (n->kind == CG_EXP_TAP) {
            const char *tap = n->tap;
            st = resolve_names(e, n, &tap, 1, s, data, &v, &missing);
        } else {
            st = resolve_inputs(e, n, s, data, ids, &missing);
        }
        if (st == CG_OK && missing) { /* this split cannot give it */
            leave_out(s, n->name, missing);
            continue;
        }
        if (st == CG_OK && !wanted[i]) { /* nothing of this graph reads it */
            leave_out(s, n->name, n->name);
            continue;
        }
        if (st == CG_OK && n->kind == CG_EXP_OP) {
            st = located(e, n, cg_graph_layer(g, n->name, n->op.op, &n->op.attrs, ids, n->n_in,
                                              op_group, &v, NULL, NULL));
        } else if (st == CG_OK && n->kind == CG_EXP_APPLY) {
            v = ids[0];
            bool first_here = applied[n->module]++ == 0;
            st = apply_module(g, e, n, first_here, first_node[n->module] == i,
                              slots[n->module], n_slots[n->module], s, &v);
        }
        if (st == CG_OK)
            define(s, n->name, v);
    }
    for (int i = 0; i < sg->n_losses && st == CG_OK && !how->eval; i++) {
        const cg_exp_loss *l = &sg->losses[i];
        int ids[CG_MAX_INPUTS], v;
        const char *missing = NULL;
        st = resolve_inputs(e, &l->node, s, data, ids, &missing);
        if (st == CG_OK && missing)
            st = cannot_give(e, &l->node, "loss", split, missing);
        if (st == CG_OK)
            st = located(e, &l->node, cg_graph_node(g, l->node.name, l->node.op.op,
                                                    &l->node.op.attrs, ids, l->node.n_in, NULL, 0,
                                                    &v));
        if (st == CG_OK)
            st = cg_graph_loss(g, v, l->weight, l->reduction, &out->loss_slots[i]);
    }
    /* Metrics: in an evaluation graph, those this split can compute (a training step would
     * only spend launches on them). */
    for (int i = 0; i < sg->n_metrics && st == CG_OK && how->eval; i++) {
        const cg_exp_node *m = &sg->metrics[i];
        int ids[CG_MAX_INPUTS], v, mask = -1;
        const char *missing = NULL;
        st = resolve_inputs(e, m, s, data, ids, &missing);
        if (st == CG_OK && !missing && m->mask[0]) {
            const char *mname = m->mask;
            st = resolve_names(e, m, &mname, 1, s, data, &mask, &missing);
        }
        if (st != CG_OK || missing)
            continue;
        char name[2 * CG_EXP_NAME + 8];
        snprintf(name, sizeof name, "metric.%s", m->name);
        st = located(e, m, cg_graph_node(g, name, m->op.op, &m->op.attrs, ids, m->n_in, NULL, 0,
                                         &v));
        if (st == CG_OK)
            st = located(e, m, cg_graph_metric_masked(g, v, mask, &out->metric_slots[i],
                                                      &out->metric_count_slots[i]));
        out->metric_built[i] = st == CG_OK;
    }
    for (int i = 0; i < sg->n_collect && st == CG_OK && how->eval; i++) {
        const char *name = sg->collect_value[i];
        const char *missing = NULL;
        cg_exp_node at = {.line = sg->collect_line, .col = sg->collect_col};
        snprintf(at.name, sizeof at.name, "collect");
        int v;
        st = resolve_names(e, &at, &name, 1, s, data, &v, &missing);
        if (st == CG_OK && !missing)
            out->collect[i] = v;
    }
    for (int i = 0; i < sg->n_freeze && st == CG_OK; i++)
        st = cg_graph_set_lr_scale(g, sg->freeze[i], 0.0f);
    if (st == CG_OK && how->eval)
        st = cg_graph_set_inference(g);
    if (st == CG_OK && how->compile)
        st = cg_graph_compile(g, seed);
    if (st == CG_OK && s->n > 0 && !(out->names = malloc((size_t)s->n * sizeof *out->names)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the graph's names");
    if (st == CG_OK) {
        memcpy(out->names, s->items, (size_t)s->n * sizeof *out->names);
        out->n_names = s->n;
    }
    free(s);
    if (st != CG_OK) {
        cg_graph_destroy(g);
        free(out->names);
        out->names = NULL;
        return st;
    }
    out->graph = g;
    out->groups = op_group + 1;
    return CG_OK;
}

cg_status cg_experiment_build(const cg_experiment *e, int stage, cg_context *ctx,
                              const cg_split *split, int batch, uint64_t seed, cg_exp_graph *out) {
    cg_exp_build how = {NULL, false, true};
    return build(e, stage, ctx, split, batch, seed, &how, out);
}

cg_status cg_experiment_build_for(const cg_experiment *e, int stage, cg_context *ctx,
                                  const cg_split *split, int batch, uint64_t seed,
                                  const cg_exp_build *how, cg_exp_graph *out) {
    return build(e, stage, how->compile ? ctx : NULL, split, batch, seed, how, out);
}

cg_status cg_experiment_check(const cg_experiment *e, int stage, const cg_split *split, int batch,
                              cg_exp_graph *out) {
    cg_exp_build how = {NULL, false, false};
    return build(e, stage, NULL, split, batch, 0, &how, out);
}

int cg_exp_graph_value(const cg_exp_graph *g, const char *name) {
    for (int i = g->n_names - 1; i >= 0; i--)
        if (strcmp(g->names[i].name, name) == 0)
            return g->names[i].value;
    return -1;
}

/* The labels of one loss or metric node read straight from an array of the split. */
static cg_status check_node_labels(const cg_experiment *e, const cg_exp_node *n,
                                   const cg_exp_graph *g, const cg_split *split, bool strict) {
    const cg_op_def *op = n->op.op;
    if (!op->label_input || op->label_input > n->n_in)
        return CG_OK;
    const cg_array *labels = NULL;
    for (int k = 0; k < split->n_arrays; k++)
        if (strcmp(split->arrays[k].name, n->inputs[op->label_input - 1]) == 0)
            labels = &split->arrays[k];
    int scores = cg_exp_graph_value(g, n->inputs[0]);
    if (!labels || labels->dtype != CG_I32 || scores < 0)
        return CG_OK;
    cg_shape in[CG_MAX_INPUTS];
    in[0] = cg_graph_value_shape(g->graph, scores);
    int classes = op->classes(&n->op.attrs, in);
    const int32_t *y = labels->data;
    int count = labels->shape.d[0];
    for (int i = 0; i < count; i++) {
        if (y[i] < classes && (y[i] >= 0 || !strict))
            continue;
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "%s:%d:%d: %s '%s' scores %d classes from '%s' (labels 0 to %d), but "
                         "sample %d of split '%s' has label %d in '%s'; widen the output to the "
                         "data's classes%s",
                         e->file, n->line, n->col, strict ? "loss" : "metric", n->name, classes,
                         n->inputs[0], classes - 1, i, split->name, y[i], labels->name,
                         strict ? "" : " (negative labels count as wrong; mask: leaves them out)");
    }
    return CG_OK;
}

cg_status cg_experiment_check_labels(const cg_experiment *e, int stage, const cg_exp_graph *g,
                                     const cg_split *split, bool training) {
    const cg_exp_stage *sg = &e->stages[stage];
    cg_status st = CG_OK;
    for (int i = 0; training && st == CG_OK && i < sg->n_losses; i++)
        st = check_node_labels(e, &sg->losses[i].node, g, split, true);
    for (int i = 0; !training && st == CG_OK && i < sg->n_metrics; i++)
        if (g->metric_built[i])
            st = check_node_labels(e, &sg->metrics[i], g, split, false);
    return st;
}

/* A split name the data lacks, at line:col where it is named (line 0: not in the file). */
static cg_status no_split(const cg_experiment *e, const cg_exp_stage *sg, const char *name,
                          int line, int col, const cg_dataset *data) {
    char list[512] = "", at[32] = "", hint[96] = "";
    const char *names[CG_MAX_SPLITS];
    int n = 0;
    for (int i = 0, used = 0; i < data->n_splits; i++) {
        used += snprintf(list + used, sizeof list - (size_t)used, "%s%s", i ? ", " : "",
                         data->splits[i].name);
        if (n < CG_MAX_SPLITS)
            names[n++] = data->splits[i].name;
    }
    if (line > 0)
        snprintf(at, sizeof at, ":%d:%d", line, col);
    const char *close = cg__closest(name, names, (size_t)n);
    if (close)
        snprintf(hint, sizeof hint, " (did you mean '%.60s'?)", close);
    return cg__error(CG_ERR_PARSE, "%s%s: stage '%s' names split '%s'%s, which the %s data does "
                                   "not have; its splits are: %s",
                     e->file, at, sg->name, name, hint, e->data.pipeline, list);
}

/* A statistic's or figure's value on a split it applies to: collected, or an array of the split
 * with a number or a row of numbers per sample (such as the anomaly flags, for an oracle). */
static cg_status check_sample_value(const cg_experiment *e, const cg_exp_stage *sg,
                                    const cg_exp_sample_item *it, const cg_split *split) {
    if (it->n_values > 0 || (it->split[0] && strcmp(it->split, split->name) != 0) ||
        collected(sg, it->value))
        return CG_OK;
    for (int k = 0; k < split->n_arrays; k++)
        if (!strcmp(split->arrays[k].name, it->value) && split->arrays[k].shape.ndim <= 2)
            return CG_OK;
    return cg__error(CG_ERR_PARSE, "%s:%d:%d: '%s' is not collected, nor an array of split '%s'; "
                                   "add it to this block's 'collect:'",
                     e->file, it->value_line, it->value_col, it->value, split->name);
}

/* An images figure's values on a split it draws: each a value this split computes, with an
 * image per sample: (C, H, W) with 1 or 3 channels, or a square number of numbers. */
static cg_status check_image_values(const cg_experiment *e, const cg_exp_sample_item *it,
                                    const cg_exp_graph *g, const cg_split *split) {
    if (it->n_values == 0 || (it->split[0] && strcmp(it->split, split->name) != 0))
        return CG_OK;
    for (int k = 0; k < it->n_values; k++) {
        int v = cg_exp_graph_value(g, it->values[k]);
        if (v < 0)
            return cg__error(CG_ERR_PARSE, "%s:%d:%d: images: split '%s' cannot compute '%s'; "
                                           "name its split with 'split:'",
                             e->file, it->line, it->col, split->name, it->values[k]);
        int c, h, w;
        cg_shape shape = cg_graph_value_shape(g->graph, v);
        if (!cg_exp_image_shape(shape, &c, &h, &w)) {
            char sh[64];
            cg_shape_str(&shape, sh, sizeof sh);
            return cg__error(CG_ERR_PARSE, "%s:%d:%d: images: '%s' has shape %s, which is no "
                                           "image per sample (1 or 3 channels, or a square "
                                           "number of pixels such as 1024)",
                             e->file, it->line, it->col, it->values[k], sh);
        }
    }
    return CG_OK;
}

bool cg_exp_image_shape(cg_shape s, int *c, int *h, int *w) {
    *c = *h = *w = 0;
    if (s.ndim == 4 && (s.d[1] == 1 || s.d[1] == 3)) {
        *c = s.d[1], *h = s.d[2], *w = s.d[3];
        return true;
    }
    size_t n = s.ndim >= 1 && s.d[0] > 0 ? cg_shape_numel(&s) / (size_t)s.d[0] : 0;
    int side = (int)(sqrt((double)n) + 0.5);
    if (s.ndim == 2 && n > 1 && (size_t)side * (size_t)side == n) {
        *c = 1, *h = *w = side;
        return true;
    }
    return false;
}

cg_status cg_experiment_check_stage(const cg_experiment *e, int stage, const cg_dataset *data,
                                    cg_exp_graph *train_out) {
    const cg_exp_stage *sg = &e->stages[stage];
    const cg_split *train = cg_dataset_find((cg_dataset *)data, sg->split);
    if (!train)
        return no_split(e, sg, sg->split, sg->split_line, sg->split_col, data);
    int batch = cg_exp_stage_batch_on(e, stage, train);
    cg_exp_build how = {data, false, false};
    cg_exp_graph tg = {0};
    cg_status st = build(e, stage, NULL, train, batch, 0, &how, &tg);
    if (st == CG_OK)
        st = cg_experiment_check_labels(e, stage, &tg, train, true);
    if (st == CG_OK && sg->has_until) {
        int v = cg_exp_graph_value(&tg, sg->until_value);
        cg_shape s = v >= 0 ? cg_graph_value_shape(tg.graph, v) : (cg_shape){0};
        if (v < 0 || cg_shape_numel(&s) != (size_t)batch)
            st = cg__error(CG_ERR_PARSE, "%s:%d:%d: until: '%s' %s; it must be a value of the "
                                         "stage's graph with one number per sample",
                           e->file, sg->until_line, sg->until_col, sg->until_value,
                           v < 0 ? "is not a value of the graph" : "has several numbers per "
                                                                    "sample");
        for (int i = 0; st == CG_OK && i < sg->n_sample_figures; i++)
            st = check_image_values(e, &sg->sample_figures[i], &tg, train);
    }
    bool metric_seen[CG_EXP_MAX_METRICS] = {false}, collect_seen[CG_EXP_MAX_COLLECT] = {false};
    how.eval = true;
    for (int s = 0; st == CG_OK && s < sg->n_eval_splits; s++) {
        const cg_split *split = cg_dataset_find((cg_dataset *)data, sg->eval_splits[s]);
        if (!split) {
            st = no_split(e, sg, sg->eval_splits[s], sg->eval_split_line[s],
                          sg->eval_split_col[s], data);
            break;
        }
        cg_exp_graph eg = {0};
        st = build(e, stage, NULL, split, sg->eval_batch ? sg->eval_batch : batch, 0, &how,
                   &eg);
        if (st == CG_OK)
            st = cg_experiment_check_labels(e, stage, &eg, split, false);
        for (int i = 0; st == CG_OK && i < sg->n_metrics; i++)
            metric_seen[i] = metric_seen[i] || eg.metric_built[i];
        for (int i = 0; st == CG_OK && i < sg->n_collect; i++)
            collect_seen[i] = collect_seen[i] || eg.collect[i] >= 0;
        for (int i = 0; st == CG_OK && i < sg->n_sample_figures; i++)
            st = check_image_values(e, &sg->sample_figures[i], &eg, split);
        for (int i = 0; st == CG_OK && i < sg->n_statistics + sg->n_sample_figures; i++)
            st = check_sample_value(e, sg, i < sg->n_statistics ? &sg->statistics[i]
                                          : &sg->sample_figures[i - sg->n_statistics],
                                    split);
        cg_exp_graph_free(&eg);
    }
    for (int i = 0; st == CG_OK && sg->n_eval_splits > 0 && i < sg->n_metrics; i++)
        if (!metric_seen[i])
            st = cg__error(CG_ERR_PARSE, "%s:%d:%d: metric '%s' cannot be computed on any of the "
                                         "evaluation splits of stage '%s' (its inputs are arrays "
                                         "or values they do not have)",
                           e->file, sg->metrics[i].line, sg->metrics[i].col, sg->metrics[i].name,
                           sg->name);
    for (int i = 0; st == CG_OK && sg->n_eval_splits > 0 && i < sg->n_collect; i++)
        if (!collect_seen[i])
            st = cg__error(CG_ERR_PARSE, "%s:%d:%d: collect: '%s' cannot be computed on any "
                                         "evaluation split of stage '%s'",
                           e->file, sg->collect_line, sg->collect_col, sg->collect[i], sg->name);
    if (st == CG_OK && train_out)
        *train_out = tg;
    else if (st == CG_OK || tg.graph)
        cg_exp_graph_free(&tg);
    return st;
}

void cg_exp_graph_free(cg_exp_graph *g) {
    if (g) {
        cg_graph_destroy(g->graph);
        free(g->names);
        g->graph = NULL;
        g->names = NULL;
    }
}
