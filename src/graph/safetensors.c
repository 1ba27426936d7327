/* A graph's parameters as .safetensors files, through the host parameter store (params.c). */
#include "graph/params.h"
#include "graph/safetensors.h"

cg_status cg_safetensors_save(cg_graph *g, const char *path, const char *const *meta,
                              int n_meta) {
    cg_param_store s = {0};
    cg_status st = cg_param_store_take(&s, g);
    if (st == CG_OK)
        st = cg_param_store_save(&s, path, meta, n_meta);
    cg_param_store_free(&s);
    return st;
}

cg_status cg_safetensors_load(cg_graph *g, const char *path) {
    cg_param_store s = {0};
    cg_status st = cg_param_store_load(&s, path);
    if (st == CG_OK)
        st = cg_param_store_give(&s, g, true, path);
    cg_param_store_free(&s);
    return st;
}
