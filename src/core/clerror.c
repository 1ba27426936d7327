/* Names of OpenCL error codes, so messages say CL_OUT_OF_RESOURCES rather than -5. */
#include <stdio.h>

#include "core/common.h"

const char *cg__cl_error_name(int code) {
    switch (code) {
#define N(c, s)                                                                                    \
    case c:                                                                                        \
        return s;
        N(0, "CL_SUCCESS")
        N(-1, "CL_DEVICE_NOT_FOUND")
        N(-2, "CL_DEVICE_NOT_AVAILABLE")
        N(-3, "CL_COMPILER_NOT_AVAILABLE")
        N(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE")
        N(-5, "CL_OUT_OF_RESOURCES")
        N(-6, "CL_OUT_OF_HOST_MEMORY")
        N(-7, "CL_PROFILING_INFO_NOT_AVAILABLE")
        N(-8, "CL_MEM_COPY_OVERLAP")
        N(-9, "CL_IMAGE_FORMAT_MISMATCH")
        N(-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED")
        N(-11, "CL_BUILD_PROGRAM_FAILURE")
        N(-12, "CL_MAP_FAILURE")
        N(-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET")
        N(-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST")
        N(-15, "CL_COMPILE_PROGRAM_FAILURE")
        N(-16, "CL_LINKER_NOT_AVAILABLE")
        N(-17, "CL_LINK_PROGRAM_FAILURE")
        N(-18, "CL_DEVICE_PARTITION_FAILED")
        N(-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE")
        N(-30, "CL_INVALID_VALUE")
        N(-31, "CL_INVALID_DEVICE_TYPE")
        N(-32, "CL_INVALID_PLATFORM")
        N(-33, "CL_INVALID_DEVICE")
        N(-34, "CL_INVALID_CONTEXT")
        N(-35, "CL_INVALID_QUEUE_PROPERTIES")
        N(-36, "CL_INVALID_COMMAND_QUEUE")
        N(-37, "CL_INVALID_HOST_PTR")
        N(-38, "CL_INVALID_MEM_OBJECT")
        N(-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR")
        N(-40, "CL_INVALID_IMAGE_SIZE")
        N(-41, "CL_INVALID_SAMPLER")
        N(-42, "CL_INVALID_BINARY")
        N(-43, "CL_INVALID_BUILD_OPTIONS")
        N(-44, "CL_INVALID_PROGRAM")
        N(-45, "CL_INVALID_PROGRAM_EXECUTABLE")
        N(-46, "CL_INVALID_KERNEL_NAME")
        N(-47, "CL_INVALID_KERNEL_DEFINITION")
        N(-48, "CL_INVALID_KERNEL")
        N(-49, "CL_INVALID_ARG_INDEX")
        N(-50, "CL_INVALID_ARG_VALUE")
        N(-51, "CL_INVALID_ARG_SIZE")
        N(-52, "CL_INVALID_KERNEL_ARGS")
        N(-53, "CL_INVALID_WORK_DIMENSION")
        N(-54, "CL_INVALID_WORK_GROUP_SIZE")
        N(-55, "CL_INVALID_WORK_ITEM_SIZE")
        N(-56, "CL_INVALID_GLOBAL_OFFSET")
        N(-57, "CL_INVALID_EVENT_WAIT_LIST")
        N(-58, "CL_INVALID_EVENT")
        N(-59, "CL_INVALID_OPERATION")
        N(-60, "CL_INVALID_GL_OBJECT")
        N(-61, "CL_INVALID_BUFFER_SIZE")
        N(-62, "CL_INVALID_MIP_LEVEL")
        N(-63, "CL_INVALID_GLOBAL_WORK_SIZE")
        N(-64, "CL_INVALID_PROPERTY")
        N(-65, "CL_INVALID_IMAGE_DESCRIPTOR")
        N(-66, "CL_INVALID_COMPILER_OPTIONS")
        N(-67, "CL_INVALID_LINKER_OPTIONS")
        N(-68, "CL_INVALID_DEVICE_PARTITION_COUNT")
        N(-1001, "CL_PLATFORM_NOT_FOUND_KHR")
#undef N
    }
    static _Thread_local char unknown[32];
    snprintf(unknown, sizeof unknown, "CL_ERROR_%d", code);
    return unknown;
}
