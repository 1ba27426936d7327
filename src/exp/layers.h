/* The YAML layer table: each layer type an experiment can name, the op it becomes, and the keys
 * it takes. Adding an op to the YAML adds one row here. */
#ifndef CG_EXP_LAYERS_H
#define CG_EXP_LAYERS_H

#include "exp/ydoc.h"
#include "ops/ops.h"

/* Reads one layer (a name such as `relu`, or a mapping with `type:` and the type's keys) into
 * its op and attributes. name receives `name:` when given, else "". Unknown types and keys,
 * missing required keys and bad values fail with file:line:col. `extra` lists additional keys
 * the caller allows (e.g. "inputs", "weight"), NULL-terminated, or NULL. */
cg_status cg_exp_read_layer(const cg_ydoc *doc, const cg_ynode *node, const char *const *extra,
                            const cg_op_def **op, cg_op_attrs *attrs, char *name, size_t cap);

/* A comma-separated list of the layer types, for messages and documentation. */
const char *cg_exp_layer_types(void);

#endif
