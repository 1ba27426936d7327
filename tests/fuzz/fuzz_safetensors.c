/* The safetensors reader: weights given with --init or init:, and the run's checkpoints. */
#include "graph/params.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("in.safetensors", data, size);
    static cg_param_store s;
    char *meta = NULL;
    memset(&s, 0, sizeof s);
    cg_param_store_load_meta(&s, path, &meta);
    free(meta);
    cg_param_store_free(&s);
    return 0;
}
