/* Without any OpenCL platform, listing devices and opening a context fail with a status and a
 * message that says what to install; nothing crashes. The ICD loader is pointed at an empty
 * vendors folder before its first use. Needs no device. */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

int main(void) {
    char dir[] = "/tmp/clgraph-no-icd-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    setenv("OCL_ICD_VENDORS", dir, 1);
    setenv("OPENCL_VENDOR_PATH", dir, 1);

    cg_device_info *list = (cg_device_info *)1;
    size_t n = 7;
    cg_status st = cg_device_list(&list, &n);
    CHECK(st == CG_ERR_NO_PLATFORM, "got %s", cg_status_str(st));
    CHECK(list == NULL && n == 0, "outputs cleared");
    CHECK_CONTAINS(cg_error_message(), "no OpenCL platform found");
    CHECK_CONTAINS(cg_error_message(), "pocl-opencl-icd");
    CHECK_CONTAINS(cg_error_message(), "clinfo");

    cg_context *ctx = (cg_context *)1;
    st = cg_context_create(NULL, &ctx);
    CHECK(st == CG_ERR_NO_PLATFORM && ctx == NULL, "context: %s", cg_status_str(st));
    cg_context_destroy(NULL);
    rmdir(dir);
    return cgt_finish("test_no_platform");
}
