/* Status codes returned by every fallible clgraph function, and the detailed error message of
 * the last failure on the calling thread. */
#ifndef CLGRAPH_STATUS_H
#define CLGRAPH_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* One X-macro list makes both the enum and cg_status_str, so the two never drift apart. */
#define CG_STATUS_LIST(X)                                                                          \
    X(CG_OK, "ok")                                                                                 \
    X(CG_ERR_INVALID_ARGUMENT, "invalid argument")                                                 \
    X(CG_ERR_OUT_OF_MEMORY, "out of host memory")                                                  \
    X(CG_ERR_NO_PLATFORM, "no OpenCL platform")                                                    \
    X(CG_ERR_NO_DEVICE, "no matching OpenCL device")                                               \
    X(CG_ERR_OPENCL, "OpenCL call failed")                                                         \
    X(CG_ERR_BUILD, "kernel program build failed")                                                 \
    X(CG_ERR_BLAS, "CLBlast call failed")                                                          \
    X(CG_ERR_IO, "file input/output failed")                                                       \
    X(CG_ERR_NOT_FOUND, "not found")                                                               \
    X(CG_ERR_PARSE, "parse error")                                                                 \
    X(CG_ERR_SHAPE, "shape mismatch")                                                              \
    X(CG_ERR_CHECK_FAILED, "check failed")                                                         \
    X(CG_ERR_INTERRUPTED, "interrupted")

typedef enum cg_status {
#define CG__STATUS_ENUM(name, text) name,
    CG_STATUS_LIST(CG__STATUS_ENUM)
#undef CG__STATUS_ENUM
} cg_status;

/* A short fixed description of a status code ("kernel program build failed"). */
const char *cg_status_str(cg_status status);

/* The full message of the last failure on this thread: what failed, with which value, and what
 * to do. Valid until the next clgraph call on the same thread; "" when there was none. */
const char *cg_error_message(void);

/* Clears the thread's last error message. */
void cg_error_clear(void);

#ifdef __cplusplus
}
#endif

#endif
