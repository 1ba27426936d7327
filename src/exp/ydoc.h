/* A YAML document as a tree of nodes that remember where they stand in the file, so every
 * error about an experiment can say file:line:column. Built with libyaml's event parser. */
#ifndef CG_EXP_YDOC_H
#define CG_EXP_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clgraph/status.h"

typedef enum cg_ynode_kind { CG_YSCALAR, CG_YSEQ, CG_YMAP } cg_ynode_kind;

typedef struct cg_ynode {
    cg_ynode_kind kind;
    int line, col;             /* 1-based */
    char *value;               /* scalar text */
    bool quoted;               /* a quoted scalar ("5" is then a string, not a number) */
    int n;                     /* items of a sequence, pairs of a mapping */
    struct cg_ynode **items;   /* sequence items, or mapping values */
    struct cg_ynode **keys;    /* mapping keys (scalars) */
    const char *origin;        /* the `--set KEY=VALUE` text it came from; NULL: the file */
} cg_ynode;

typedef struct cg_ydoc {
    char *file;
    cg_ynode *root; /* NULL for an empty document */
} cg_ydoc;

/* Reads and parses a file; a syntax error fails with CG_ERR_PARSE and "file:line:col: ...". */
cg_status cg_ydoc_load(const char *path, cg_ydoc **out);

/* Parses YAML text; file names it in messages. */
cg_status cg_ydoc_parse(const char *file, const char *text, size_t size, cg_ydoc **out);

void cg_ydoc_free(cg_ydoc *doc);

/* Frees one node and everything under it. */
void cg_ynode_free(cg_ynode *node);

/* Writes a node tree back out as block-style YAML (the resolved descriptor of a run). */
void cg_ydoc_write(const cg_ynode *node, FILE *out);

/* The value of key in a mapping, or NULL. */
cg_ynode *cg_ymap_get(const cg_ynode *map, const char *key);

/* Records "file:line:col: message" for a node and returns CG_ERR_PARSE. */
cg_status cg_yerror(const cg_ydoc *doc, const cg_ynode *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Typed reads of scalars, each failing with a located message naming the key and the value. */
cg_status cg_yget_int(const cg_ydoc *doc, const cg_ynode *node, const char *key, long lo,
                      long hi, long *out);
cg_status cg_yget_float(const cg_ydoc *doc, const cg_ynode *node, const char *key, double *out);
cg_status cg_yget_bool(const cg_ydoc *doc, const cg_ynode *node, const char *key, bool *out);
cg_status cg_yget_str(const cg_ydoc *doc, const cg_ynode *node, const char *key, char *out,
                      size_t cap);
/* A string that must be one of the choices; the error lists them and suggests the closest. */
cg_status cg_yget_choice(const cg_ydoc *doc, const cg_ynode *node, const char *key,
                         const char *const *choices, size_t n_choices, char *out, size_t cap);

/* Checks that every key of a mapping is one of the known ones: an unknown key is an error with a
 * "did you mean" hint. what names the mapping in the message ("data"). */
cg_status cg_ycheck_keys(const cg_ydoc *doc, const cg_ynode *map, const char *what,
                         const char *const *known, size_t n_known);

#endif
