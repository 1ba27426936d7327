/* The clgraph public interface: include this one header. */
#ifndef CLGRAPH_H
#define CLGRAPH_H

#include "status.h"
#include "device.h"
#include "selftest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *cg_version(void);

#ifdef __cplusplus
}
#endif

#endif
