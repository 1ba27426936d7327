/* The data layer: loaders for IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary files, the
 * built-in data, and the generators that turn them into the splits each pipeline trains on.
 * Everything here runs on the host, deterministically from a seed; the executor uploads the
 * results to the device once. */
#ifndef CG_DATA_H
#define CG_DATA_H

#include <stdint.h>

#include "ops/ops.h"

/* 8-bit images with optional labels, NCHW. */
typedef struct cg_images {
    int n, c, h, w;
    uint8_t *pixels; /* n * c * h * w */
    int32_t *labels; /* n, or NULL */
} cg_images;

void cg_images_free(cg_images *im);

/* Reads an unsigned-byte IDX file, plain or gzip-compressed. *data (freed with free()) holds
 * the product of the dims bytes. Rejects a bad magic number, a type other than unsigned byte,
 * more than 4 dims, a truncated file and trailing bytes, naming the file. */
cg_status cg_idx_read(const char *path, int *ndim, int dims[4], uint8_t **data);

/* An IDX image file (n, h, w) and its label file (n). */
cg_status cg_images_load_idx(const char *images_path, const char *labels_path, cg_images *out);

/* CIFAR-10 binary batches (records of 1 label byte and 3x32x32 pixel bytes), concatenated. */
cg_status cg_images_load_cifar10(const char *const *paths, int n_paths, cg_images *out);

/* Where a named dataset was found. */
typedef enum cg_data_origin {
    CG_DATA_PATH,    /* a folder given by the experiment or CLGRAPH_DATA */
    CG_DATA_SYSTEM,  /* a system package (Debian's dataset-fashion-mnist) */
    CG_DATA_BUILTIN, /* the data shipped with clgraph (data/) */
} cg_data_origin;

/* Loads "mnist" or "fashion-mnist" as (train, test). dir, when not NULL, is a folder holding
 * train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and
 * t10k-labels-idx1-ubyte[.gz]. Without dir: $CLGRAPH_DATA/<name>/, then (Fashion-MNIST) the
 * Debian package's folder, then the built-in files: MNIST's 10,000 digits split into the first
 * 8,000 for training and the last 2,000 for testing, or the Fashion-MNIST 3,000 / 1,000 subset.
 * where (may be NULL) receives a description of the source ("built-in: ..."). */
cg_status cg_dataset_load(const char *name, const char *dir, cg_images *train, cg_images *test,
                          cg_data_origin *origin, char *where, size_t where_cap);

/* The folder of the built-in data files: $CLGRAPH_DATA_BUILTIN if set, else the source tree's
 * data/ when it exists, else the installed share/clgraph/data. */
const char *cg_data_builtin_dir(void);

#endif
