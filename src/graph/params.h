/* A parameter store on the host: named tensors carried between the graphs of an experiment's
 * stages, loaded from and saved to .safetensors. Names and layouts are PyTorch's. */
#ifndef CG_GRAPH_PARAMS_H
#define CG_GRAPH_PARAMS_H

#include "graph/graph.h"

typedef struct cg_param_tensor {
    char name[96];
    cg_shape shape;
    float *data;
} cg_param_tensor;

typedef struct cg_param_store {
    int n;
    cg_param_tensor tensors[CG_GRAPH_MAX_PARAMS];
} cg_param_store;

void cg_param_store_free(cg_param_store *s);

/* The tensor of this name, or NULL. */
cg_param_tensor *cg_param_store_find(cg_param_store *s, const char *name);

/* Copies every parameter of the graph into the store (adding or replacing by name). */
cg_status cg_param_store_take(cg_param_store *s, cg_graph *g);

/* Writes the store's tensors into the graph's slots of the same names; slots without a tensor
 * keep their values; a tensor of another shape is an error naming it. With require_all, a slot
 * missing from the store is an error too (loading --init weights). */
cg_status cg_param_store_give(const cg_param_store *s, cg_graph *g, bool require_all,
                              const char *source);

/* .safetensors files (float32 tensors); saving writes PATH.tmp and renames it. */
cg_status cg_param_store_save(const cg_param_store *s, const char *path, const char *const *meta,
                              int n_meta);
cg_status cg_param_store_load(cg_param_store *s, const char *path);
/* The same, with the file's __metadata__ as a JSON object's text in *meta (NULL when it has
 * none; freed by the caller). */
cg_status cg_param_store_load_meta(cg_param_store *s, const char *path, char **meta);

#endif
