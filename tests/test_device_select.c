/* Device choice: the spec forms on made-up device lists (no OpenCL needed), the no-match error
 * text, and the same rules on the devices actually present. */
#include "core/common.h"
#include "harness.h"

static cg_device_info fake(int p, int d, const char *platform, const char *name,
                           const char *vendor, cg_device_type type) {
    cg_device_info x;
    memset(&x, 0, sizeof x);
    x.platform_index = p;
    x.device_index = d;
    cg__copy_str(x.platform_name, sizeof x.platform_name, platform);
    cg__copy_str(x.platform_vendor, sizeof x.platform_vendor, platform);
    cg__copy_str(x.name, sizeof x.name, name);
    cg__copy_str(x.vendor, sizeof x.vendor, vendor);
    x.type = type;
    return x;
}

static void expect(const cg_device_info *list, size_t n, const char *spec, size_t want) {
    size_t got = 999;
    cg_status st = cg_device_select(list, n, spec, &got);
    CHECK(st == CG_OK && got == want, "spec '%s': status %s, index %zu, want %zu (%s)",
          spec ? spec : "(null)", cg_status_str(st), got, want, cg_error_message());
}

int main(void) {
    cg_device_info list[] = {
        fake(0, 0, "Portable Computing Language", "pthread-haswell-Intel Xeon", "GenuineIntel",
             CG_DEVICE_CPU),
        fake(1, 0, "NVIDIA CUDA", "NVIDIA H100 80GB HBM3", "NVIDIA Corporation", CG_DEVICE_GPU),
        fake(1, 1, "NVIDIA CUDA", "NVIDIA A100", "NVIDIA Corporation", CG_DEVICE_GPU),
        fake(2, 0, "AMD Accelerated Parallel Processing", "gfx1100", "Advanced Micro Devices",
             CG_DEVICE_GPU),
        fake(3, 0, "Xilinx", "fpga0", "Xilinx", CG_DEVICE_ACCELERATOR),
    };
    size_t n = CG__ARRAY_LEN(list);

    expect(list, n, NULL, 1); /* default: the first GPU, not the CPU listed before it */
    expect(list, n, "", 1);
    expect(list, n, "0:0", 0);
    expect(list, n, "1:1", 2);
    expect(list, n, "3", 3); /* flat index */
    expect(list, n, "gpu", 1);
    expect(list, n, "GPU", 1);
    expect(list, n, "cpu", 0);
    expect(list, n, "accelerator", 4);
    expect(list, n, "nvidia", 1);
    expect(list, n, "a100", 2);
    expect(list, n, "H100", 1);
    expect(list, n, "amd", 3);   /* vendor "Advanced Micro Devices" via platform name */
    expect(list, n, "intel", 0); /* vendor GenuineIntel */
    expect(list, n, "portable", 0); /* platform name */

    /* CPUs only: the default falls back to the first CPU. */
    cg_device_info cpus[] = {list[4], list[0]};
    expect(cpus, 2, NULL, 1);

    size_t got;
    cg_status st = cg_device_select(list, n, "radeon", &got);
    CHECK(st == CG_ERR_NO_DEVICE, "no match gives CG_ERR_NO_DEVICE, got %s", cg_status_str(st));
    const char *msg = cg_error_message();
    CHECK_CONTAINS(msg, "no OpenCL device matches 'radeon'");
    CHECK_CONTAINS(msg, "Devices present:");
    CHECK_CONTAINS(msg, "1:0  NVIDIA H100 80GB HBM3  (GPU, NVIDIA Corporation");
    CHECK_CONTAINS(msg, "2:0  gfx1100");
    st = cg_device_select(list, n, "7:0", &got);
    CHECK(st == CG_ERR_NO_DEVICE, "7:0 matches nothing");
    CHECK_CONTAINS(cg_error_message(), "no device has that platform:device index");
    st = cg_device_select(list, n, "12", &got);
    CHECK(st == CG_ERR_NO_DEVICE, "12 is past the end");
    CHECK_CONTAINS(cg_error_message(), "only 5 devices");
    st = cg_device_select(cpus, 2, "gpu", &got);
    CHECK(st == CG_ERR_NO_DEVICE, "no GPU among CPUs");
    CHECK_CONTAINS(cg_error_message(), "no device of that type");
    st = cg_device_select(list, 0, NULL, &got);
    CHECK(st == CG_ERR_NO_PLATFORM, "empty list");
    CHECK_CONTAINS(cg_error_message(), "pocl-opencl-icd");

    /* The real devices: every listed device is found by its own P:D and by its own name. */
    cg_device_info *real = NULL;
    size_t count = 0;
    st = cg_device_list(&real, &count);
    if (st == CG_ERR_NO_PLATFORM && !cgt_require_device()) {
        cgt_finish("test_device_select (made-up lists only)");
        return cgt_failures ? 1 : CGT_SKIP;
    }
    CHECK(st == CG_OK && count > 0, "device list: %s", cg_error_message());
    for (size_t i = 0; i < count; i++) {
        char spec[32];
        snprintf(spec, sizeof spec, "%d:%d", real[i].platform_index, real[i].device_index);
        expect(real, count, spec, i);
        CHECK(real[i].compute_units > 0 && real[i].global_mem > 0 && real[i].max_alloc > 0,
              "device %zu reports its resources", i);
        CHECK(real[i].name[0] && real[i].driver_version[0] && real[i].opencl_c_version[0],
              "device %zu reports its names", i);
    }
    free(real);
    return cgt_finish("test_device_select");
}
