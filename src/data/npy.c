/* NumPy .npy files (format version 1.0): the magic "\\x93NUMPY", version 1.0, a little-endian
 * 16-bit header length, a Python dict literal padded with spaces to a 64-byte boundary and
 * ending in a newline, then the data in C order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

/* Pair targets are stored as floats for the losses but exported as integer labels. */
static bool as_int64(const cg_array *a) {
    return a->dtype == CG_I32 || strcmp(a->name, "target") == 0;
}

static cg_status write_npy(const char *path, const cg_array *a) {
    char shape[128];
    size_t used = 0;
    for (int i = 0; i < a->shape.ndim; i++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, "%d%s", a->shape.d[i],
                                 a->shape.ndim == 1 || i + 1 < a->shape.ndim ? ", " : "");
    char header[256];
    int len = snprintf(header, sizeof header,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                       as_int64(a) ? "<i8" : "<f4", shape);
    int total = 10 + len + 1, pad = (64 - total % 64) % 64;
    memset(header + len, ' ', (size_t)pad);
    header[len + pad] = '\n';
    uint16_t hlen = (uint16_t)(len + pad + 1);
    FILE *f = fopen(path, "wb");
    if (!f)
        return cg__error(CG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    const unsigned char hl[2] = {(unsigned char)(hlen & 255), (unsigned char)(hlen >> 8)};
    bool ok = fwrite(magic, 1, 8, f) == 8 && fwrite(hl, 1, 2, f) == 2 &&
              fwrite(header, 1, hlen, f) == hlen;
    size_t n = cg_shape_numel(&a->shape);
    for (size_t i = 0; ok && i < n; i++) {
        if (as_int64(a)) {
            int64_t v = a->dtype == CG_I32 ? ((const int32_t *)a->data)[i]
                                           : (int64_t)((const float *)a->data)[i];
            unsigned char b[8];
            for (int k = 0; k < 8; k++)
                b[k] = (unsigned char)((uint64_t)v >> (8 * k));
            ok = fwrite(b, 1, 8, f) == 8;
        } else {
            float v = ((const float *)a->data)[i];
            uint32_t u;
            memcpy(&u, &v, 4);
            unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8),
                                  (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
            ok = fwrite(b, 1, 4, f) == 4;
        }
    }
    ok = fclose(f) == 0 && ok;
    if (!ok)
        return cg__error(CG_ERR_IO, "writing %s failed (is the disk full?)", path);
    return CG_OK;
}

cg_status cg_dataset_export_npy(const cg_dataset *d, const char *dir,
                                void (*written)(const char *path, void *user), void *user) {
    cg_status st = cg__mkdir_p(dir);
    for (int s = 0; st == CG_OK && s < d->n_splits; s++)
        for (int k = 0; st == CG_OK && k < d->splits[s].n_arrays; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s_%s.npy", dir, d->splits[s].name,
                     d->splits[s].arrays[k].name);
            st = write_npy(path, &d->splits[s].arrays[k]);
            if (st == CG_OK && written)
                written(path, user);
        }
    return st;
}
