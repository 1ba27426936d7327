/* IDX files (the MNIST format): a big-endian header, magic 0x0000 TT NN with type TT and NN
 * dims, NN big-endian 32-bit sizes, then the data. Only unsigned bytes (type 0x08) are used by
 * the datasets here. zlib's gz reader reads plain files unchanged, so one path serves both. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/data.h"

void cg_images_free(cg_images *im) {
    if (!im)
        return;
    free(im->pixels);
    free(im->labels);
    memset(im, 0, sizeof *im);
}

/* Reads exactly n bytes; *got receives what was read. */
static int read_all(gzFile f, void *buf, size_t n, size_t *got) {
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int r = gzread(f, (char *)buf + done, chunk);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

cg_status cg_idx_read(const char *path, int *ndim, int dims[4], uint8_t **data) {
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return cg__error(CG_ERR_IO, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "out of memory");
    uint8_t head[4];
    size_t got = 0;
    cg_status st = CG_OK;
    int err;
    if (read_all(f, head, 4, &got) != 0) {
        st = cg__error(CG_ERR_PARSE, "%s: cannot decompress: %s; the file is damaged, fetch it "
                                     "again",
                       path, gzerror(f, &err));
        goto done;
    }
    if (got < 4 || head[0] != 0 || head[1] != 0) {
        st = cg__error(CG_ERR_PARSE,
                       "%s: not an IDX file (the first bytes are not 00 00 type dims); expected "
                       "an MNIST-style *-idx3-ubyte or *-idx1-ubyte file",
                       path);
        goto done;
    }
    if (head[2] != 0x08) {
        st = cg__error(CG_ERR_PARSE,
                       "%s: IDX data type 0x%02x; only unsigned bytes (0x08) are supported", path,
                       head[2]);
        goto done;
    }
    if (head[3] < 1 || head[3] > 4) {
        st = cg__error(CG_ERR_PARSE, "%s: %d dimensions; IDX files here have 1 to 4", path,
                       head[3]);
        goto done;
    }
    *ndim = head[3];
    uint8_t sizes[16];
    if (read_all(f, sizes, 4u * head[3], &got) != 0 || got < 4u * head[3]) {
        st = cg__error(CG_ERR_PARSE, "%s: truncated inside the header", path);
        goto done;
    }
    uint64_t total = 1;
    for (int i = 0; i < *ndim; i++) {
        dims[i] = (int)((uint32_t)sizes[4 * i] << 24 | (uint32_t)sizes[4 * i + 1] << 16 |
                        (uint32_t)sizes[4 * i + 2] << 8 | sizes[4 * i + 3]);
        if (dims[i] < 0) {
            st = cg__error(CG_ERR_PARSE, "%s: dimension %d is %u, too large", path, i,
                           (uint32_t)dims[i]);
            goto done;
        }
        total *= (uint64_t)dims[i];
    }
    if (total > ((uint64_t)1 << 34)) {
        st = cg__error(CG_ERR_PARSE, "%s: the header promises %llu bytes, too many to load", path,
                       (unsigned long long)total);
        goto done;
    }
    /* The buffer grows with what the file holds, so a header that promises gigabytes of a
     * short file fails as truncated instead of claiming the memory first. */
    size_t cap = total < (1u << 20) ? (size_t)total : (1u << 20), have = 0;
    *data = malloc(cap ? cap : 1);
    got = 0;
    while (*data && have < total) {
        if (have == cap) {
            size_t next = cap * 2 < total ? cap * 2 : (size_t)total;
            uint8_t *grown = realloc(*data, next);
            if (!grown)
                break;
            *data = grown;
            cap = next;
        }
        if (read_all(f, *data + have, cap - have, &got) != 0) {
            st = cg__error(CG_ERR_PARSE, "%s: cannot decompress: %s; the file is damaged, fetch "
                                         "it again",
                           path, gzerror(f, &err));
            goto done;
        }
        have += got;
        if (have < cap)
            break; /* the file ended */
    }
    if (!*data || (have == cap && have < total)) {
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "%s: no memory for %llu bytes", path,
                       (unsigned long long)total);
        goto done;
    }
    got = have;
    if (got < total) {
        st = cg__error(CG_ERR_PARSE,
                       "%s: truncated: the header promises %llu bytes of data, the file holds "
                       "%zu; fetch it again",
                       path, (unsigned long long)total, got);
        goto done;
    }
    uint8_t extra;
    if (read_all(f, &extra, 1, &got) == 0 && got == 1) {
        st = cg__error(CG_ERR_PARSE,
                       "%s: more data than the header's %llu bytes; the header or the file is "
                       "wrong",
                       path, (unsigned long long)total);
        goto done;
    }
done:
    gzclose(f);
    if (st != CG_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

cg_status cg_images_load_idx(const char *images_path, const char *labels_path, cg_images *out) {
    memset(out, 0, sizeof *out);
    int nd = 0, ld = 0, dims[4] = {0}, ldims[4] = {0};
    uint8_t *pixels = NULL, *labels = NULL;
    cg_status st = cg_idx_read(images_path, &nd, dims, &pixels);
    if (st != CG_OK)
        return st;
    if (nd != 3) {
        free(pixels);
        return cg__error(CG_ERR_PARSE,
                         "%s: %d dimensions; an image file has 3 (count, height, width)",
                         images_path, nd);
    }
    st = cg_idx_read(labels_path, &ld, ldims, &labels);
    if (st == CG_OK && ld != 1)
        st = cg__error(CG_ERR_PARSE, "%s: %d dimensions; a label file has 1 (count)", labels_path,
                       ld);
    if (st == CG_OK && ldims[0] != dims[0])
        st = cg__error(CG_ERR_PARSE, "%s holds %d labels but %s holds %d images; they must match",
                       labels_path, ldims[0], images_path, dims[0]);
    int32_t *lab = NULL;
    if (st == CG_OK && !(lab = malloc((size_t)(dims[0] ? dims[0] : 1) * sizeof *lab)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d labels", dims[0]);
    for (int i = 0; st == CG_OK && i < dims[0]; i++) {
        if (labels[i] > 9)
            st = cg__error(CG_ERR_PARSE, "%s: label %d of image %d; labels here are 0 to 9",
                           labels_path, labels[i], i);
        else
            lab[i] = labels[i];
    }
    free(labels);
    if (st != CG_OK) {
        free(pixels);
        free(lab);
        return st;
    }
    *out = (cg_images){dims[0], 1, dims[1], dims[2], pixels, lab};
    return CG_OK;
}
