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

/* ---- generated splits ---- */

/* One named array of a split; the first dim counts samples. */
typedef struct cg_array {
    char name[24];
    cg_dtype dtype;
    cg_shape shape;
    void *data; /* float or int32_t */
} cg_array;

#define CG_MAX_ARRAYS 8
#define CG_MAX_SPLITS 8

typedef struct cg_split {
    char name[24];
    int n_arrays;
    cg_array arrays[CG_MAX_ARRAYS];
} cg_split;

typedef struct cg_dataset {
    char source[512]; /* where the images came from, for reports */
    int n_splits;
    cg_split splits[CG_MAX_SPLITS];
} cg_dataset;

void cg_dataset_free(cg_dataset *d);

/* Adds an empty split, or NULL when full. */
cg_split *cg_dataset_add_split(cg_dataset *d, const char *name);

/* Adds a zeroed array to a split; NULL (with a message) when out of memory or full. */
cg_array *cg_split_add(cg_split *s, const char *name, cg_dtype dtype, cg_shape shape);

/* The array or split of this name, or NULL. */
cg_array *cg_split_find(cg_split *s, const char *name);
cg_split *cg_dataset_find(cg_dataset *d, const char *name);

/* The number of samples of a split (the first dim of its arrays). */
int cg_split_count(const cg_split *s);

/* ---- backgrounds for the digit pipelines ---- */

/* n colour backgrounds of 32x32, (n, 3, 32, 32) floats in [0, 1]. */
typedef struct cg_backgrounds {
    int n;
    float *rgb;
} cg_backgrounds;

void cg_backgrounds_free(cg_backgrounds *b);

/* The built-in source: textures made from (seed, index) alone, see backgrounds.c. */
cg_status cg_backgrounds_procedural(int n, uint64_t seed, cg_backgrounds *out);

/* n images of a CIFAR-10 set, chosen at random by the seed. */
cg_status cg_backgrounds_from_images(const cg_images *im, int n, uint64_t seed,
                                     cg_backgrounds *out);

/* Composites a 28x28 digit (alpha = pixel / 255) centred onto a 32x32 background:
 * out = (1 - a) * bg + a * c, with ink colour c white when the background's mean luminance
 * (0.299 R + 0.587 G + 0.114 B) is below 0.5, else black. out is (3, 32, 32). */
void cg_composite_digit(float *out, const float *bg, const uint8_t *digit);

/* ---- what to generate ---- */

/* Every knob of the generators; each pipeline's defaults give the seed studies' values. */
typedef struct cg_data_config {
    char dataset[24];      /* mnist | fashion-mnist */
    char path[1024];       /* the dataset's folder; "" for the default lookup */
    char path_at[1100];    /* where path is given, file:line:col, for messages */
    char backgrounds[16];  /* procedural | cifar10 (baseline, similarity) */
    char cifar_path[1024]; /* folder with data_batch_*.bin / test_batch.bin */
    uint64_t seed;
    int n_train, n_test;   /* samples (pairs for siamese); 0: every image there is */
    int pools_per_class;   /* baseline: backgrounds in each class's training pool */
    int ood_pool;          /* baseline: held-out backgrounds for the OOD test */
    int classes[10];       /* siamese: the two classes; dae open_set / one_class, vae: known */
    int n_classes;
    char task[16];         /* siamese: embedding | compare; dae: classify | open_set |
                              one_class | rings */
    char mining[16];       /* siamese: random | knn */
    int k_neighbours;      /* siamese knn: neighbours per anchor (5) */
    char negatives[24];    /* siamese: other_class | other_or_non_neighbour */
    bool triplets;         /* siamese: also make (anchor, neighbour, other class) triplets */
    float pair_weights[3]; /* siamese: a pair's weight (its `weight` array) by its kind:
                              positive, same-class negative, other-class negative (1, 1, 1) */
    int shifts[4];         /* siamese: horizontal shifts of the extra test sets */
    int n_shifts;
    int n_labeled;         /* vae: labeled training images per known class */
    int grid;              /* dae rings: grid points per side of the confidence map */
    int fooling_trials;    /* dae classify: fooling trials per target class (0: none) */
} cg_data_config;

/* The generators, one per kind of data; src/pipelines/ says which pipeline uses which, and
 * cg_data_generate (pipelines/pipeline.h) runs them. Deterministic: the same config and seed give
 * the same bytes. Splits and arrays:
 *  digits on backgrounds: train, test_id, test_ood with x (N,3,32,32), y, bg (background id)
 *  pairs: pairs (x1, x2, target 1 similar / 0 not, y1, y2, kind 0 positive / 1 same-class
 *    negative / 2 other-class negative, weight by kind), triplets (anchor, positive, negative)
 *    when asked, train and test (x, y), test_shift_<s> (x, y) per shift; images standardised
 *    by the training images' mean and deviation
 *  compare: train, test with x (N,2,14,14), target (1 when class 1 <= class 2), classes (N,2),
 *    y1, y2
 *  classes: train, test (x, y); open_set and one_class add known (1 / 0) to test and train on
 *    known classes only
 *  rings: train (x (N,2), y ring 0..2) and grid (x (G*G,2)); needs no images
 *  vae: unlabeled (x), labeled (x, y, anomaly, known), test_a and test_b (x, y, anomaly,
 *    known); images 32x32, y the index of the known class, -1 for anomalies, known = 1 -
 *    anomaly (a mask for the known classes). */
cg_status cg_gen_digits_on_backgrounds(const cg_data_config *c, const cg_images *train,
                                        const cg_images *test, cg_dataset *out);
cg_status cg_gen_pairs(const cg_data_config *c, const cg_images *train, const cg_images *test,
                       cg_dataset *out);
cg_status cg_gen_compare(const cg_data_config *c, const cg_images *train, const cg_images *test,
                         cg_dataset *out);
cg_status cg_gen_classes(const cg_data_config *c, const cg_images *train, const cg_images *test,
                         cg_dataset *out);
cg_status cg_gen_rings(const cg_data_config *c, cg_dataset *out);
cg_status cg_gen_vae(const cg_data_config *c, const cg_images *train, const cg_images *test,
                     cg_dataset *out);

/* ---- looking at the data ---- */

/* Writes every array of every split as DIR/<split>_<array>.npy (NumPy format 1.0): images and
 * other float arrays as float32, labels (int arrays) and pair targets as int64. The folder is
 * created. Each written path is passed to `written` (may be NULL). */
cg_status cg_dataset_export_npy(const cg_dataset *d, const char *dir,
                                void (*written)(const char *path, void *user), void *user);

/* Writes a PNG grid: for each split its name and the first `samples` samples, every image array
 * of a sample side by side with its labels under it; 2-D point sets as a scatter plot. */
cg_status cg_dataset_preview_png(const cg_dataset *d, const char *path, int samples);

#endif
