/* Reading an experiment descriptor and building its graph (see experiment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp/experiment.h"
#include "exp/layers.h"

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
 * a missing last key of a mapping is added. at (for messages) is where the override came from. */
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
                cg_ynode key = {CG_YSCALAR, value->line, value->col, (char *)part, false, 0, NULL, NULL};
                cg_ynode map = {CG_YMAP, value->line, value->col, NULL, false, 0, NULL, NULL};
                keys[cur->n] = copy_node(&key);
                items[cur->n] = next ? copy_node(&map) : NULL;
                slot = &items[cur->n++];
            }
        } else if (cur && cur->kind == CG_YSEQ) {
            char *end;
            long i = strtol(part, &end, 10);
            if (*end == '\0' && i >= 0 && i < cur->n)
                slot = &cur->items[i];
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

static cg_status apply_variant(cg_ydoc *doc, const char *variant) {
    const cg_ynode *vars = cg_ymap_get(doc->root, "variants");
    const cg_ynode *v = vars ? cg_ymap_get(vars, variant) : NULL;
    if (!v) {
        char list[512] = "";
        for (int i = 0, used = 0; vars && vars->kind == CG_YMAP && i < vars->n; i++)
            used += snprintf(list + used, sizeof list - (size_t)used, "%s%s", i ? ", " : "",
                             vars->keys[i]->value);
        return cg__error(CG_ERR_NOT_FOUND, "%s: no variant '%s'%s%s", doc->file, variant,
                         list[0] ? "; the variants are: " : " (the file defines none)", list);
    }
    if (v->kind != CG_YMAP)
        return cg_yerror(doc, v, "variant '%s' must map dotted keys to values, such as "
                                 "'losses.1.weight: 0'",
                         variant);
    for (int i = 0; i < v->n; i++) {
        cg_status st = set_path(doc, v->keys[i]->value, v->items[i], v->keys[i]);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
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
        return st;
    cg_ynode empty = {CG_YSCALAR, 1, 1, (char *)"", false, 0, NULL, NULL};
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
                                    "similarity, kl_normal, cool",
                         n->op.op->name);
    if (role == ROLE_METRIC && n->op.op->backward)
        return cg_yerror(doc, type, "%s is not a metric; the metrics are accuracy and "
                                    "cool_confidence",
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
    return CG_OK;
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
        double b1, b2;
        st = cg_yget_float(doc, b->items[0], "betas", &b1);
        if (st == CG_OK)
            st = cg_yget_float(doc, b->items[1], "betas", &b2);
        c->beta1 = (float)b1;
        c->beta2 = (float)b2;
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
    } ints[] = {{"epochs", &stage->epochs, 1, 100000},
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
    return st;
}

static cg_status parse_evaluate(const cg_ydoc *doc, const cg_ynode *v, cg_exp_stage *e) {
    static const char *const keys[] = {"splits", "metrics"};
    cg_status st = cg_ycheck_keys(doc, v, "evaluate", keys, 2);
    const cg_ynode *s = cg_ymap_get(v, "splits"), *m = cg_ymap_get(v, "metrics");
    if (st == CG_OK && s) {
        if (s->kind != CG_YSEQ || s->n < 1 || s->n > CG_MAX_SPLITS)
            return cg_yerror(doc, s, "'splits' is a list of split names, such as [test_id, "
                                     "test_ood]");
        for (int i = 0; i < s->n && st == CG_OK; i++)
            st = cg_yget_str(doc, s->items[i], "splits", e->eval_splits[i], 24);
        e->n_eval_splits = s->n;
    }
    if (st == CG_OK && m)
        e->n_metrics = 0;
    if (st == CG_OK && m) {
        if (m->kind != CG_YSEQ || m->n > CG_EXP_MAX_METRICS)
            return cg_yerror(doc, m, "'metrics' is a list such as [{type: accuracy, inputs: "
                                     "[logits, y]}]");
        static const char *const extra[] = {"inputs", NULL};
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
            if (!cg_ymap_get(m->items[i], "name") && st == CG_OK)
                cg__copy_str(n->name, sizeof n->name, n->op.op->name);
            e->n_metrics += st == CG_OK;
        }
    }
    return st;
}

/* One entry of `stages:`: a copy of the top-level stage, with what the entry changes. */
static cg_status parse_stage(const cg_ydoc *doc, const cg_ynode *v, const cg_experiment *e,
                             const cg_exp_stage *top, int index, cg_exp_stage *st_out) {
    static const char *const keys[] = {"name",      "split",  "graph",  "losses",
                                       "optimizer", "epochs", "freeze", "evaluate"};
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
    if (st == CG_OK && (n = cg_ymap_get(v, "split")))
        st = cg_yget_str(doc, n, "split", st_out->split, sizeof st_out->split);
    if (st == CG_OK && (n = cg_ymap_get(v, "graph")))
        st = parse_graph(doc, n, e, st_out->nodes, &st_out->n_nodes);
    if (st == CG_OK && (n = cg_ymap_get(v, "losses")))
        st = parse_losses(doc, n, st_out);
    if (st == CG_OK && (n = cg_ymap_get(v, "optimizer")))
        st = parse_optimizer(doc, n, &st_out->optimizer);
    if (st == CG_OK && (n = cg_ymap_get(v, "epochs")) &&
        (st = cg_yget_int(doc, n, "epochs", 1, 100000, &ep)) == CG_OK)
        st_out->epochs = (int)ep;
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
    if (st == CG_OK && st_out->n_losses == 0)
        st = cg_yerror(doc, v, "stage '%s' has no losses (give 'losses:' here or at the top)",
                       st_out->name);
    return st;
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
        (st = cg_yget_int(doc, n, "repeats", 1, 1000, &v)) == CG_OK)
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
        st = cg_yerror(doc, model, "'model' maps module names to lists of layers");
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
    } else if (st == CG_OK) {
        e->stages[0] = top;
        e->n_stages = 1;
    }
    if (st == CG_OK && (n = cg_ymap_get(root, "variants"))) {
        if (n->kind != CG_YMAP || n->n > CG_EXP_MAX_VARIANTS)
            return cg_yerror(doc, n, "'variants' maps up to %d variant names to overrides",
                             CG_EXP_MAX_VARIANTS);
        for (int i = 0; i < n->n; i++)
            cg__copy_str(e->variants[i], CG_EXP_NAME, n->keys[i]->value);
        e->n_variants = n->n;
    }
    return st;
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

cg_status cg_experiment_write_resolved(const char *path, const char *variant,
                                       const char *const *sets, int n_sets, const char *out_path) {
    cg_ydoc *doc;
    cg_status st = load_resolved(path, variant, sets, n_sets, &doc);
    if (st != CG_OK)
        return st;
    FILE *f = fopen(out_path, "w");
    if (!f) {
        cg_ydoc_free(doc);
        return cg__error(CG_ERR_IO, "cannot write %s", out_path);
    }
    fprintf(f, "# %s%s%s, as run (variant and --set overrides applied)\n", path,
            variant && *variant ? ", variant " : "", variant && *variant ? variant : "");
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

typedef struct named {
    char name[2 * CG_EXP_NAME + 2];
    int value;
} named;

typedef struct scope {
    named items[CG_GRAPH_MAX_VALUES];
    int n;
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

static cg_status resolve_inputs(const cg_experiment *e, const cg_exp_node *n, const scope *s,
                                int *ids) {
    for (int k = 0; k < n->n_in; k++)
        if ((ids[k] = lookup(s, n->inputs[k])) < 0)
            return unknown_value(e, n, n->inputs[k], s);
    return CG_OK;
}

static cg_status located(const cg_experiment *e, const cg_exp_node *n, cg_status st) {
    if (st == CG_OK || n->line == 0)
        return st;
    return cg__error_prefix(st, "%s:%d:%d", e->file, n->line, n->col);
}

static cg_status build(const cg_experiment *e, int stage, cg_context *ctx, const cg_split *split,
                       int batch, uint64_t seed, bool compile, cg_exp_graph *out) {
    if (stage < 0 || stage >= e->n_stages)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "no stage %d", stage);
    const cg_exp_stage *sg = &e->stages[stage];
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
    int applied[CG_EXP_MAX_MODULES] = {0};
    int op_group = e->n_modules; /* parameters of op nodes outside modules */
    for (int i = 0; i < n_nodes && st == CG_OK; i++) {
        const cg_exp_node *n = nodes[i];
        int ids[CG_MAX_INPUTS], v = -1;
        if (n->kind == CG_EXP_TAP) {
            if ((v = lookup(s, n->tap)) < 0)
                st = unknown_value(e, n, n->tap, s);
        } else if (n->kind == CG_EXP_OP) {
            st = resolve_inputs(e, n, s, ids);
            if (st == CG_OK)
                st = located(e, n, cg_graph_layer(g, n->name, n->op.op, &n->op.attrs, ids,
                                                  n->n_in, op_group, &v, NULL, NULL));
        } else {
            const cg_exp_module *m = &e->modules[n->module];
            st = resolve_inputs(e, n, s, ids);
            v = ids[0];
            bool first = applied[n->module]++ == 0;
            for (int l = 0; l < m->n_layers && st == CG_OK; l++) {
                const cg_exp_layer *layer = &m->layers[l];
                /* Parameters are named after the module (PyTorch's names) when first made;
                 * an unshared module applied again gets its own, named after the node. */
                bool fresh = first || !m->share;
                char pname[2 * CG_EXP_NAME + 2], vname[2 * CG_EXP_NAME + 2];
                snprintf(vname, sizeof vname, "%s.%s", n->name, layer->name);
                snprintf(pname, sizeof pname, "%s.%s", first ? m->name : n->name, layer->name);
                int prev = v;
                if (fresh)
                    st = cg_graph_layer(g, pname, layer->op, &layer->attrs, &prev, 1, n->module,
                                        &v, slots[n->module][l], &n_slots[n->module][l]);
                else
                    st = cg_graph_node(g, vname, layer->op, &layer->attrs, &prev, 1,
                                       slots[n->module][l], n_slots[n->module][l], &v);
                st = located(e, n, st);
                if (st == CG_OK) {
                    define(s, vname, v);
                    if (first) {
                        snprintf(vname, sizeof vname, "%s.%s", m->name, layer->name);
                        define(s, vname, v);
                    }
                }
            }
        }
        if (st == CG_OK)
            define(s, n->name, v);
    }
    for (int i = 0; i < sg->n_losses && st == CG_OK; i++) {
        const cg_exp_loss *l = &sg->losses[i];
        int ids[CG_MAX_INPUTS], v;
        st = resolve_inputs(e, &l->node, s, ids);
        if (st == CG_OK)
            st = located(e, &l->node, cg_graph_node(g, l->node.name, l->node.op.op,
                                                    &l->node.op.attrs, ids, l->node.n_in, NULL, 0,
                                                    &v));
        if (st == CG_OK)
            st = cg_graph_loss(g, v, l->weight, l->reduction, &out->loss_slots[i]);
    }
    for (int i = 0; i < sg->n_metrics && st == CG_OK; i++) {
        const cg_exp_node *m = &sg->metrics[i];
        int ids[CG_MAX_INPUTS], v;
        st = resolve_inputs(e, m, s, ids);
        if (st == CG_OK)
            st = located(e, m, cg_graph_node(g, m->name, m->op.op, &m->op.attrs, ids, m->n_in,
                                             NULL, 0, &v));
        if (st == CG_OK)
            st = cg_graph_metric(g, v, &out->metric_slots[i]);
    }
    free(s);
    for (int i = 0; i < sg->n_freeze && st == CG_OK; i++)
        st = cg_graph_set_lr_scale(g, sg->freeze[i], 0.0f);
    if (st == CG_OK && compile)
        st = cg_graph_compile(g, seed);
    if (st != CG_OK) {
        cg_graph_destroy(g);
        return st;
    }
    out->graph = g;
    out->groups = op_group + 1;
    return CG_OK;
}

cg_status cg_experiment_build(const cg_experiment *e, int stage, cg_context *ctx,
                              const cg_split *split, int batch, uint64_t seed, cg_exp_graph *out) {
    return build(e, stage, ctx, split, batch, seed, true, out);
}

cg_status cg_experiment_check(const cg_experiment *e, int stage, const cg_split *split, int batch,
                              cg_exp_graph *out) {
    return build(e, stage, NULL, split, batch, 0, false, out);
}

void cg_exp_graph_free(cg_exp_graph *g) {
    if (g)
        cg_graph_destroy(g->graph);
}
