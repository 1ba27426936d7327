/* A graph's parameters as .safetensors files, with PyTorch's names and layouts. */
#ifndef CG_GRAPH_SAFETENSORS_H
#define CG_GRAPH_SAFETENSORS_H

#include "graph/graph.h"

/* Writes every parameter slot; meta is key, value, key, value... strings for __metadata__. */
cg_status cg_safetensors_save(cg_graph *g, const char *path, const char *const *meta, int n_meta);

/* Loads every parameter slot by name; a missing, mis-shaped or non-F32 tensor is an error that
 * names it. Extra tensors in the file are ignored. */
cg_status cg_safetensors_load(cg_graph *g, const char *path);

#endif
