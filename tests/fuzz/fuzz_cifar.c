/* The CIFAR-10 binary batch reader (records of a label byte and 3,072 pixel bytes). */
#include "data/data.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("data_batch_1.bin", data, size);
    cg_images im;
    if (cg_images_load_cifar10(&path, 1, &im) == CG_OK)
        cg_images_free(&im);
    return 0;
}
