/* The IDX reader (MNIST's format), plain and gzip-compressed, and the images-with-labels loader
 * that pairs two of them. */
#include "data/data.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("in-idx3-ubyte", data, size);
    int nd, dims[4];
    uint8_t *out = NULL;
    if (cg_idx_read(path, &nd, dims, &out) == CG_OK)
        free(out);
    static const uint8_t labels[8 + 4] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    const char *lp = fuzz_write("labels-idx1-ubyte", labels, sizeof labels);
    cg_images im;
    if (cg_images_load_idx(path, lp, &im) == CG_OK)
        cg_images_free(&im);
    return 0;
}
