/* CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin): records of one label byte
 * (0 to 9) and 3072 pixel bytes, the red, green and blue 32x32 planes in turn. */
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

enum { RECORD = 1 + 3 * 32 * 32 };

cg_status cg_images_load_cifar10(const char *const *paths, int n_paths, cg_images *out) {
    memset(out, 0, sizeof *out);
    char **blobs = calloc((size_t)(n_paths ? n_paths : 1), sizeof *blobs);
    size_t *sizes = calloc((size_t)(n_paths ? n_paths : 1), sizeof *sizes);
    cg_status st = blobs && sizes ? CG_OK : cg__error(CG_ERR_OUT_OF_MEMORY, "no memory");
    size_t total = 0;
    for (int i = 0; i < n_paths && st == CG_OK; i++) {
        st = cg__read_file(paths[i], &blobs[i], &sizes[i]);
        if (st == CG_OK && (sizes[i] == 0 || sizes[i] % RECORD != 0))
            st = cg__error(CG_ERR_PARSE,
                           "%s: %zu bytes is not a whole number of 3073-byte CIFAR-10 records "
                           "(1 label byte + 3x32x32 pixels); is it the binary version "
                           "(cifar-10-binary.tar.gz)?",
                           paths[i], sizes[i]);
        total += st == CG_OK ? sizes[i] / RECORD : 0;
    }
    if (st == CG_OK && n_paths == 0)
        st = cg__error(CG_ERR_INVALID_ARGUMENT, "no CIFAR-10 batch files given");
    if (st == CG_OK) {
        out->pixels = malloc(total * (RECORD - 1));
        out->labels = malloc(total * sizeof *out->labels);
        if (!out->pixels || !out->labels)
            st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu CIFAR-10 images", total);
    }
    size_t at = 0;
    for (int i = 0; i < n_paths && st == CG_OK; i++) {
        const uint8_t *p = (const uint8_t *)blobs[i];
        for (size_t r = 0; r < sizes[i] / RECORD && st == CG_OK; r++, at++) {
            const uint8_t *rec = p + r * RECORD;
            if (rec[0] > 9) {
                st = cg__error(CG_ERR_PARSE,
                               "%s: record %zu has label %d; CIFAR-10 labels are 0 to 9 (is it "
                               "CIFAR-100?)",
                               paths[i], r, rec[0]);
                break;
            }
            out->labels[at] = rec[0];
            memcpy(out->pixels + at * (RECORD - 1), rec + 1, RECORD - 1);
        }
    }
    for (int i = 0; i < n_paths && blobs; i++)
        free(blobs[i]);
    free(blobs);
    free(sizes);
    if (st != CG_OK) {
        cg_images_free(out);
        return st;
    }
    out->n = (int)total;
    out->c = 3;
    out->h = 32;
    out->w = 32;
    return CG_OK;
}
