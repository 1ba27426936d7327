/* The container of generated data: named splits of named arrays. */
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

void cg_dataset_free(cg_dataset *d) {
    if (!d)
        return;
    for (int s = 0; s < d->n_splits; s++)
        for (int a = 0; a < d->splits[s].n_arrays; a++)
            free(d->splits[s].arrays[a].data);
    memset(d, 0, sizeof *d);
}

cg_split *cg_dataset_add_split(cg_dataset *d, const char *name) {
    if (d->n_splits == CG_MAX_SPLITS)
        return NULL;
    cg_split *s = &d->splits[d->n_splits++];
    memset(s, 0, sizeof *s);
    cg__copy_str(s->name, sizeof s->name, name);
    return s;
}

cg_array *cg_split_add(cg_split *s, const char *name, cg_dtype dtype, cg_shape shape) {
    if (s->n_arrays == CG_MAX_ARRAYS) {
        cg__error(CG_ERR_INVALID_ARGUMENT, "split %s has no room for array %s", s->name, name);
        return NULL;
    }
    size_t n = cg_shape_numel(&shape);
    void *data = calloc(n ? n : 1, 4);
    if (!data) {
        cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu values of %s/%s", n, s->name, name);
        return NULL;
    }
    cg_array *a = &s->arrays[s->n_arrays++];
    cg__copy_str(a->name, sizeof a->name, name);
    a->dtype = dtype;
    a->shape = shape;
    a->data = data;
    return a;
}

cg_array *cg_split_find(cg_split *s, const char *name) {
    for (int i = 0; i < s->n_arrays; i++)
        if (strcmp(s->arrays[i].name, name) == 0)
            return &s->arrays[i];
    return NULL;
}

cg_split *cg_dataset_find(cg_dataset *d, const char *name) {
    for (int i = 0; i < d->n_splits; i++)
        if (strcmp(d->splits[i].name, name) == 0)
            return &d->splits[i];
    return NULL;
}

int cg_split_count(const cg_split *s) {
    return s->n_arrays ? s->arrays[0].shape.d[0] : 0;
}
