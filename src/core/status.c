/* Status code names and the per-thread message of the last failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clgraph/clgraph.h"
#include "core/common.h"

/* Long enough for a device list or a build log excerpt; longer messages are cut. */
#define CG__ERROR_CAP 8192

static _Thread_local char error_message[CG__ERROR_CAP];

const char *cg_status_str(cg_status status) {
    switch (status) {
#define CG__STATUS_CASE(name, text)                                                                \
    case name:                                                                                     \
        return text;
        CG_STATUS_LIST(CG__STATUS_CASE)
#undef CG__STATUS_CASE
    }
    return "unknown status";
}

const char *cg_error_message(void) {
    return error_message;
}

void cg_error_clear(void) {
    error_message[0] = '\0';
}

cg_status cg__error(cg_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    return status;
}

cg_status cg__error_prefix(cg_status status, const char *fmt, ...) {
    char prefix[512];
    char old[CG__ERROR_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Assembled by hand: the message is cut at the buffer's end on purpose. */
    memcpy(old, error_message, sizeof old);
    size_t np = strlen(prefix), no = strlen(old);
    if (np > CG__ERROR_CAP - 3)
        np = CG__ERROR_CAP - 3;
    if (no > CG__ERROR_CAP - 3 - np)
        no = CG__ERROR_CAP - 3 - np;
    memcpy(error_message, prefix, np);
    memcpy(error_message + np, ": ", 2);
    memcpy(error_message + np + 2, old, no);
    error_message[np + 2 + no] = '\0';
    return status;
}

const char *cg_version(void) {
    return CLGRAPH_VERSION;
}
