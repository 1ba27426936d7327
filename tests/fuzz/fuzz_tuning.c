/* The tuning-file parser, for a device like PoCL's on a 2-core CPU. */
#include "device/device_internal.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static cg_device_info d;
    static cg__tuning t;
    if (!d.name[0]) {
        snprintf(d.name, sizeof d.name, "cpu");
        snprintf(d.driver_version, sizeof d.driver_version, "3.1");
        d.max_work_group_size = 4096;
        d.local_mem = 1 << 20;
    }
    char why[256];
    cg__tuning_parse(&d, (const char *)data, size, &t, why, sizeof why);
    return 0;
}
