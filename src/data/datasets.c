/* Finding the MNIST and Fashion-MNIST data: a folder the experiment names, $CLGRAPH_DATA, the
 * Debian package's folder, or the built-in files, in that order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"

#ifndef CLGRAPH_SOURCE_DATA_DIR
#define CLGRAPH_SOURCE_DATA_DIR ""
#endif
#ifndef CLGRAPH_INSTALL_DATA_DIR
#define CLGRAPH_INSTALL_DATA_DIR ""
#endif

#define FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

static bool is_dir(const char *path) {
    struct stat s;
    return path && *path && stat(path, &s) == 0 && S_ISDIR(s.st_mode);
}

static bool is_file(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 && S_ISREG(s.st_mode);
}

const char *cg_data_builtin_dir(void) {
    const char *env = getenv("CLGRAPH_DATA_BUILTIN");
    if (env && *env)
        return env;
    if (is_dir(CLGRAPH_SOURCE_DATA_DIR))
        return CLGRAPH_SOURCE_DATA_DIR;
    return CLGRAPH_INSTALL_DATA_DIR;
}

/* dir/base.gz when it exists, else dir/base. */
static void find_file(const char *dir, const char *base, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.gz", dir, base);
    if (!is_file(path))
        snprintf(path, cap, "%s/%s", dir, base);
}

static cg_status load_pair(const char *dir, const char *images, const char *labels,
                           cg_images *out) {
    char ip[4096], lp[4096];
    find_file(dir, images, ip, sizeof ip);
    find_file(dir, labels, lp, sizeof lp);
    if (!is_file(ip) || !is_file(lp))
        return cg__error(CG_ERR_NOT_FOUND,
                         "folder %s has no %s[.gz] and %s[.gz]; point the experiment's data path "
                         "(or CLGRAPH_DATA) at a folder with the four standard IDX files",
                         dir, images, labels);
    cg_status st = cg_images_load_idx(ip, lp, out);
    /* The generators draw MNIST-sized digits: any other size would be read out of bounds. */
    if (st == CG_OK && out->n == 0)
        st = cg__error(CG_ERR_PARSE, "%s holds no images; the datasets here need some", ip);
    else if (st == CG_OK && (out->h != 28 || out->w != 28))
        st = cg__error(CG_ERR_PARSE, "%s holds %dx%d images; MNIST and Fashion-MNIST images are "
                                     "28x28 (point the data path at the standard files)",
                       ip, out->h, out->w);
    if (st != CG_OK)
        cg_images_free(out);
    return st;
}

static cg_status slice(const cg_images *src, int start, int count, cg_images *out) {
    size_t per = (size_t)src->c * src->h * src->w;
    *out = (cg_images){count, src->c, src->h, src->w, malloc(per * (size_t)count),
                       malloc(sizeof(int32_t) * (size_t)count)};
    if (!out->pixels || !out->labels) {
        cg_images_free(out);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d images", count);
    }
    memcpy(out->pixels, src->pixels + per * (size_t)start, per * (size_t)count);
    memcpy(out->labels, src->labels + start, sizeof(int32_t) * (size_t)count);
    return CG_OK;
}

static cg_status load_standard(const char *dir, cg_images *train, cg_images *test) {
    cg_status st = load_pair(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", train);
    if (st == CG_OK)
        st = load_pair(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", test);
    if (st != CG_OK)
        cg_images_free(train);
    return st;
}

cg_status cg_dataset_load(const char *name, const char *dir, cg_images *train, cg_images *test,
                          cg_data_origin *origin, char *where, size_t where_cap) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    bool mnist = strcmp(name, "mnist") == 0, fashion = strcmp(name, "fashion-mnist") == 0;
    if (!mnist && !fashion)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "unknown dataset '%s'; the image datasets are mnist and fashion-mnist",
                         name);
    char folder[4096] = "";
    cg_data_origin from = CG_DATA_PATH;
    const char *env = getenv("CLGRAPH_DATA");
    if (dir && *dir) {
        if (!is_dir(dir))
            return cg__error(CG_ERR_NOT_FOUND, "data folder %s for %s does not exist", dir, name);
        snprintf(folder, sizeof folder, "%s", dir);
    } else if (env && *env) {
        snprintf(folder, sizeof folder, "%s/%s", env, name);
        if (!is_dir(folder))
            folder[0] = '\0';
    }
    if (!folder[0] && fashion && is_dir(FASHION_SYSTEM_DIR)) {
        snprintf(folder, sizeof folder, "%s", FASHION_SYSTEM_DIR);
        from = CG_DATA_SYSTEM;
    }
    cg_status st;
    if (folder[0]) {
        st = load_standard(folder, train, test);
        if (where)
            snprintf(where, where_cap, "%s", folder);
    } else {
        from = CG_DATA_BUILTIN;
        const char *b = cg_data_builtin_dir();
        if (!is_dir(b))
            return cg__error(CG_ERR_NOT_FOUND,
                             "the built-in data folder %s is missing; reinstall clgraph, or set "
                             "CLGRAPH_DATA to a folder with %s/",
                             b, name);
        if (mnist) {
            cg_images all;
            st = load_pair(b, "mnist-10k-images-idx3-ubyte", "mnist-10k-labels-idx1-ubyte", &all);
            if (st == CG_OK) {
                int n_train = all.n * 4 / 5;
                st = slice(&all, 0, n_train, train);
                if (st == CG_OK)
                    st = slice(&all, n_train, all.n - n_train, test);
                cg_images_free(&all);
            }
        } else {
            st = load_pair(b, "fashion-mnist-train-3k-images-idx3-ubyte",
                           "fashion-mnist-train-3k-labels-idx1-ubyte", train);
            if (st == CG_OK)
                st = load_pair(b, "fashion-mnist-test-1k-images-idx3-ubyte",
                               "fashion-mnist-test-1k-labels-idx1-ubyte", test);
        }
        if (where)
            snprintf(where, where_cap, "built-in %s (%d train, %d test) in %s", name, train->n,
                     test->n, b);
    }
    if (st != CG_OK) {
        cg_images_free(train);
        cg_images_free(test);
        return st;
    }
    if (origin)
        *origin = from;
    return CG_OK;
}
