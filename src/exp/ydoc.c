/* YAML documents as located node trees (see ydoc.h). Aliases and anchors are refused: an
 * experiment should read the same to a person as to the parser. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/common.h"
#include "exp/ydoc.h"

void cg_ynode_free(cg_ynode *n) {
    if (!n)
        return;
    for (int i = 0; i < n->n; i++) {
        cg_ynode_free(n->items[i]);
        if (n->keys)
            cg_ynode_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->value);
    free(n);
}

void cg_ydoc_free(cg_ydoc *doc) {
    if (!doc)
        return;
    cg_ynode_free(doc->root);
    free(doc->file);
    free(doc);
}

static cg_ynode *new_node(cg_ynode_kind kind, const yaml_mark_t *m) {
    cg_ynode *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->line = (int)m->line + 1;
        n->col = (int)m->column + 1;
    }
    return n;
}

/* Appends child to a sequence, or as a key or value to a mapping. */
static bool append(cg_ynode *parent, cg_ynode *child, bool as_key) {
    if (parent->kind == CG_YSEQ || as_key) {
        cg_ynode **items = realloc(parent->items, (size_t)(parent->n + 1) * sizeof *items);
        if (!items)
            return false;
        parent->items = items;
        if (parent->kind == CG_YMAP) {
            cg_ynode **keys = realloc(parent->keys, (size_t)(parent->n + 1) * sizeof *keys);
            if (!keys)
                return false;
            parent->keys = keys;
            keys[parent->n] = child;
            items[parent->n] = NULL;
        } else {
            items[parent->n] = child;
        }
        parent->n++;
        return true;
    }
    parent->items[parent->n - 1] = child; /* the value of the last key */
    return true;
}

/* Every mapping under n (at the dotted path where, "" for the top) has each key once. */
static cg_status no_duplicate_keys(const cg_ydoc *doc, const cg_ynode *n, const char *where) {
    for (int i = 0; n->kind == CG_YMAP && i < n->n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(n->keys[i]->value, n->keys[j]->value))
                return cg_yerror(doc, n->keys[i], "key '%s' appears twice in %s (first at line "
                                                  "%d)",
                                 n->keys[i]->value, where[0] ? where : "the file",
                                 n->keys[j]->line);
    for (int i = 0; i < n->n; i++) {
        if (!n->items[i])
            continue;
        char sub[256];
        if (n->kind == CG_YMAP)
            snprintf(sub, sizeof sub, "%.120s%s%.120s", where, where[0] ? "." : "",
                     n->keys[i]->value);
        else
            snprintf(sub, sizeof sub, "%.200s.%d", where[0] ? where : "the list", i);
        cg_status st = no_duplicate_keys(doc, n->items[i], sub);
        if (st != CG_OK)
            return st;
    }
    return CG_OK;
}

cg_status cg_ydoc_parse(const char *file, const char *text, size_t size, cg_ydoc **out) {
    *out = NULL;
    /* libyaml reads UTF-16 too, but names and paths here are UTF-8: say so at once. */
    const unsigned char *u = (const unsigned char *)text;
    if (size >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
        return cg__error(CG_ERR_PARSE, "%s:1:1: the file is UTF-16 (it starts with a byte-order "
                                       "mark); save it as UTF-8",
                         file);
    const void *nul = memchr(text, 0, size);
    if (nul) {
        size_t at = (size_t)((const char *)nul - text), line = 1, col = 1;
        for (size_t i = 0; i < at; i++, col++)
            if (text[i] == '\n')
                line++, col = 0;
        return cg__error(CG_ERR_PARSE, "%s:%zu:%zu: a NUL byte; an experiment is a UTF-8 text "
                                       "file (UTF-16 or UTF-32 files hold NULs: save it as UTF-8)",
                         file, line, col);
    }
    cg_ydoc *doc = calloc(1, sizeof *doc);
    if (!doc || !(doc->file = strdup(file))) {
        free(doc);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s", file);
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, size);
    cg_ynode *stack[64];
    bool expect_key[64];
    int depth = 0;
    cg_status st = CG_OK;
    bool done = false;
    while (!done && st == CG_OK) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            st = cg__error(CG_ERR_PARSE, "%s:%zu:%zu: YAML syntax error: %s%s%s", file,
                           p.problem_mark.line + 1, p.problem_mark.column + 1,
                           p.problem ? p.problem : "unknown problem", p.context ? " " : "",
                           p.context ? p.context : "");
            break;
        }
        cg_ynode *node = NULL;
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (doc->root)
                st = cg__error(CG_ERR_PARSE, "%s:%zu:%zu: a second YAML document; an experiment "
                                             "file holds one",
                               file, e.start_mark.line + 1, e.start_mark.column + 1);
            break;
        case YAML_ALIAS_EVENT:
            st = cg__error(CG_ERR_PARSE, "%s:%zu:%zu: YAML aliases (*name) are not supported in "
                                         "experiments; write the value out",
                           file, e.start_mark.line + 1, e.start_mark.column + 1);
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            node = new_node(e.type == YAML_SCALAR_EVENT          ? CG_YSCALAR
                            : e.type == YAML_SEQUENCE_START_EVENT ? CG_YSEQ
                                                                  : CG_YMAP,
                            &e.start_mark);
            if (node && e.type == YAML_SCALAR_EVENT) {
                node->value = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
                node->quoted = e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            }
            if (!node || (e.type == YAML_SCALAR_EVENT && !node->value)) {
                cg_ynode_free(node);
                st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s", file);
                break;
            }
            if (depth == 0) {
                doc->root = node;
            } else {
                cg_ynode *parent = stack[depth - 1];
                bool as_key = parent->kind == CG_YMAP && expect_key[depth - 1];
                if (as_key && node->kind != CG_YSCALAR) {
                    st = cg__error(CG_ERR_PARSE, "%s:%d:%d: a mapping key must be a plain name",
                                   file, node->line, node->col);
                    cg_ynode_free(node);
                    break;
                }
                if (!append(parent, node, as_key)) {
                    cg_ynode_free(node);
                    st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s", file);
                    break;
                }
                if (parent->kind == CG_YMAP)
                    expect_key[depth - 1] = !expect_key[depth - 1];
            }
            if (node->kind != CG_YSCALAR) {
                if (depth == 64) {
                    st = cg__error(CG_ERR_PARSE, "%s:%d:%d: nested more than 64 levels deep",
                                   file, node->line, node->col);
                    break;
                }
                expect_key[depth] = true;
                stack[depth++] = node;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    if (st != CG_OK) {
        cg_ydoc_free(doc);
        return st;
    }
    /* Duplicate keys are almost always a mistake: the second silently wins in many tools. */
    st = doc->root ? no_duplicate_keys(doc, doc->root, "") : CG_OK;
    if (st != CG_OK) {
        cg_ydoc_free(doc);
        return st;
    }
    *out = doc;
    return CG_OK;
}

cg_status cg_ydoc_load(const char *path, cg_ydoc **out) {
    char *text;
    size_t size;
    cg_status st = cg__read_file(path, &text, &size);
    if (st != CG_OK)
        return st;
    st = cg_ydoc_parse(path, text, size, out);
    free(text);
    return st;
}

cg_ynode *cg_ymap_get(const cg_ynode *map, const char *key) {
    if (!map || map->kind != CG_YMAP)
        return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

cg_status cg_yerror(const cg_ydoc *doc, const cg_ynode *node, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (node && node->origin)
        return cg__error(CG_ERR_PARSE, "%s: --set '%s': %s", doc->file, node->origin, msg);
    if (node)
        return cg__error(CG_ERR_PARSE, "%s:%d:%d: %s", doc->file, node->line, node->col, msg);
    return cg__error(CG_ERR_PARSE, "%s: %s", doc->file, msg);
}

static cg_status need_scalar(const cg_ydoc *doc, const cg_ynode *node, const char *key,
                             const char *expected) {
    if (node->kind == CG_YSCALAR)
        return CG_OK;
    return cg_yerror(doc, node, "'%s' must be %s, not a %s", key, expected,
                     node->kind == CG_YSEQ ? "list" : "mapping");
}

cg_status cg_yget_int(const cg_ydoc *doc, const cg_ynode *node, const char *key, long lo,
                      long hi, long *out) {
    cg_status st = need_scalar(doc, node, key, "a whole number");
    if (st != CG_OK)
        return st;
    char *end;
    errno = 0;
    long v = strtol(node->value, &end, 10);
    if (node->quoted || end == node->value || *end || errno)
        return cg_yerror(doc, node, "'%s' must be a whole number, not '%s'", key, node->value);
    if (v < lo || v > hi)
        return cg_yerror(doc, node, "'%s' is %ld; it must be between %ld and %ld", key, v, lo,
                         hi);
    *out = v;
    return CG_OK;
}

cg_status cg_yget_float(const cg_ydoc *doc, const cg_ynode *node, const char *key, double *out) {
    cg_status st = need_scalar(doc, node, key, "a number");
    if (st != CG_OK)
        return st;
    char *end;
    double v = strtod(node->value, &end);
    if (node->quoted || end == node->value || *end || !isfinite(v))
        return cg_yerror(doc, node, "'%s' must be a number, not '%s'", key, node->value);
    if (fabs(v) > FLT_MAX) /* every number here becomes a 32-bit float */
        return cg_yerror(doc, node, "'%s' is %s, beyond what a 32-bit float holds (%g)", key,
                         node->value, (double)FLT_MAX);
    *out = v;
    return CG_OK;
}

cg_status cg_yget_bool(const cg_ydoc *doc, const cg_ynode *node, const char *key, bool *out) {
    cg_status st = need_scalar(doc, node, key, "true or false");
    if (st != CG_OK)
        return st;
    if (!node->quoted && strcmp(node->value, "true") == 0)
        *out = true;
    else if (!node->quoted && strcmp(node->value, "false") == 0)
        *out = false;
    else
        return cg_yerror(doc, node, "'%s' must be true or false, not '%s'", key, node->value);
    return CG_OK;
}

cg_status cg_yget_str(const cg_ydoc *doc, const cg_ynode *node, const char *key, char *out,
                      size_t cap) {
    cg_status st = need_scalar(doc, node, key, "a string");
    if (st != CG_OK)
        return st;
    if (strlen(node->value) >= cap)
        return cg_yerror(doc, node, "'%s' is longer than %zu characters", key, cap - 1);
    memcpy(out, node->value, strlen(node->value) + 1);
    return CG_OK;
}

cg_status cg_yget_choice(const cg_ydoc *doc, const cg_ynode *node, const char *key,
                         const char *const *choices, size_t n_choices, char *out, size_t cap) {
    cg_status st = need_scalar(doc, node, key, "a name");
    if (st != CG_OK)
        return st;
    for (size_t i = 0; i < n_choices; i++)
        if (strcmp(node->value, choices[i]) == 0)
            return cg_yget_str(doc, node, key, out, cap);
    char list[512] = "";
    for (size_t i = 0, used = 0; i < n_choices && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 choices[i]);
    const char *close = cg__closest(node->value, choices, n_choices);
    return cg_yerror(doc, node, "unknown %s '%s'%s%s%s; choose one of: %s", key, node->value,
                     close ? " (did you mean '" : "", close ? close : "", close ? "'?)" : "",
                     list);
}

cg_status cg_ycheck_keys(const cg_ydoc *doc, const cg_ynode *map, const char *what,
                         const char *const *known, size_t n_known) {
    if (map->kind != CG_YMAP)
        return cg_yerror(doc, map, "'%s' must be a mapping of keys to values", what);
    for (int i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->value;
        for (int j = 0; j < i; j++)
            if (strcmp(map->keys[j]->value, k) == 0)
                return cg_yerror(doc, map->keys[i], "key '%s' appears twice in %s (first at line "
                                                    "%d)",
                                 k, what, map->keys[j]->line);
        bool ok = false;
        for (size_t j = 0; j < n_known && !ok; j++)
            ok = strcmp(k, known[j]) == 0;
        if (ok)
            continue;
        const char *close = cg__closest(k, known, n_known);
        char list[768] = "";
        for (size_t j = 0, used = 0; j < n_known && used < sizeof list; j++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                     known[j]);
        if (close)
            return cg_yerror(doc, map->keys[i], "unknown key '%s' in %s — did you mean '%s'?", k,
                             what, close);
        return cg_yerror(doc, map->keys[i], "unknown key '%s' in %s; the keys are: %s", k, what,
                         list);
    }
    return CG_OK;
}

/* A scalar as YAML text: plain when safe, else double-quoted. */
static void write_scalar(const cg_ynode *n, FILE *out) {
    const char *v = n->value;
    bool plain = !n->quoted && *v && !strpbrk(v, ":#{}[],&*!|>'\"%@`\n") && v[0] != ' ' &&
                 v[strlen(v) - 1] != ' ' && v[0] != '-';
    if (!n->quoted && *v && (v[0] == '-' && (v[1] >= '0' && v[1] <= '9')))
        plain = true; /* negative numbers */
    if (plain) {
        fputs(v, out);
        return;
    }
    fputc('"', out);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            fputc('\\', out);
        if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
    fputc('"', out);
}

/* Sequences of scalars and small mappings of scalars go on one line, in flow style. */
static bool is_flat(const cg_ynode *n) {
    if (n->kind == CG_YSCALAR)
        return true;
    for (int i = 0; i < n->n; i++)
        if (n->items[i]->kind != CG_YSCALAR)
            return false;
    return n->n <= 8;
}

static void write_flow(const cg_ynode *n, FILE *out) {
    if (n->kind == CG_YSCALAR) {
        write_scalar(n, out);
        return;
    }
    fputc(n->kind == CG_YSEQ ? '[' : '{', out);
    for (int i = 0; i < n->n; i++) {
        if (i)
            fputs(", ", out);
        if (n->kind == CG_YMAP) {
            write_scalar(n->keys[i], out);
            fputs(": ", out);
        }
        write_scalar(n->items[i], out);
    }
    fputc(n->kind == CG_YSEQ ? ']' : '}', out);
}

static void write_block(const cg_ynode *n, int indent, FILE *out) {
    for (int i = 0; i < n->n; i++) {
        const cg_ynode *v = n->items[i];
        fprintf(out, "%*s", indent, "");
        if (n->kind == CG_YMAP) {
            write_scalar(n->keys[i], out);
            fputc(':', out);
        } else {
            fputc('-', out);
        }
        if (is_flat(v)) {
            fputc(' ', out);
            write_flow(v, out);
            fputc('\n', out);
        } else {
            fputc('\n', out);
            write_block(v, indent + 2, out);
        }
    }
}

void cg_ydoc_write(const cg_ynode *node, FILE *out) {
    if (!node)
        return;
    if (node->kind == CG_YSCALAR || is_flat(node)) {
        write_flow(node, out);
        fputc('\n', out);
        return;
    }
    write_block(node, 0, out);
}
