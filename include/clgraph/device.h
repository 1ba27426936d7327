/* OpenCL devices: listing every platform and device, choosing one from a user's spec, and the
 * context that owns the chosen device's queue and compiled programs. */
#ifndef CLGRAPH_DEVICE_H
#define CLGRAPH_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cg_device_type {
    CG_DEVICE_OTHER = 0,
    CG_DEVICE_CPU = 1,
    CG_DEVICE_GPU = 2,
    CG_DEVICE_ACCELERATOR = 3,
} cg_device_type;

/* Everything `clgraph devices` shows about one device. Strings are NUL-terminated and cut to
 * fit; sizes are in bytes, the clock in MHz. */
typedef struct cg_device_info {
    int platform_index; /* P in the "P:D" spec */
    int device_index;   /* D in the "P:D" spec */
    char platform_name[128];
    char platform_vendor[128];
    char platform_version[160];
    char name[128];
    char vendor[128];
    char device_version[160];
    char driver_version[128];
    char opencl_c_version[128];
    cg_device_type type;
    uint32_t compute_units;
    uint32_t clock_mhz;
    uint64_t global_mem;
    uint64_t local_mem;
    uint64_t max_alloc;
    uint64_t max_work_group_size;
    bool fp16;
    bool fp64;
    bool subgroups;
    bool fma; /* fused multiply-add in hardware (CL_FP_FMA): the kernels use fma() */
    /* cl_khr_command_buffer: a training step can be recorded once and replayed */
    bool command_buffers;
} cg_device_info;

/* How a graph's training steps ran where steps are recorded and replayed
 * (cg_graph_replay_stats; CLGRAPH_REPLAY). */
typedef struct cg_replay_stats {
    unsigned recorded;  /* steps recorded as a command buffer (they also ran as usual) */
    unsigned replayed;  /* steps run as one enqueue of the recording */
    unsigned misses;    /* steps whose launches differed from the recording: ran as usual */
    unsigned abandoned; /* recordings that failed (the driver refused a command) */
    unsigned segments;  /* command buffers in the recording: one more than the commands other
                           than launches inside a step (CLBlast's GEMMs, copies) */
    bool gave_up;       /* no more tries: misses in a row, or the driver refused */
    unsigned steps;     /* training steps in all */
} cg_replay_stats;

/* Lists every device of every platform, in platform order. *out is freed with free().
 * Fails with CG_ERR_NO_PLATFORM (and a message saying what to install) when there is none. */
cg_status cg_device_list(cg_device_info **out, size_t *count);

/* The name of a device type: "CPU", "GPU", "accelerator", "other". */
const char *cg_device_type_str(cg_device_type type);

/* The default device: the first GPU, else the first CPU, else the first device. */
size_t cg_device_default(const cg_device_info *devices, size_t count);

/* Chooses a device from a spec:
 *   NULL or ""        the default device (see cg_device_default)
 *   "P:D"             platform P, device D, as `clgraph devices` numbers them
 *   "N"               the N-th device of the whole list, counting from 0
 *   "gpu", "cpu", "accelerator"   the first device of that type
 *   anything else     the first device whose vendor, platform or device name contains the text,
 *                     ignoring case ("nvidia", "amd", "intel", "pocl", "h100")
 * A spec that matches nothing fails with CG_ERR_NO_DEVICE and a message listing the devices. */
cg_status cg_device_select(const cg_device_info *devices, size_t count, const char *spec,
                           size_t *index);

/* The spec used when none is given: the CLGRAPH_DEVICE environment variable, else NULL. */
const char *cg_device_spec_from_env(void);

typedef struct cg_context cg_context;

typedef struct cg_context_options {
    const char *device; /* a spec as for cg_device_select; NULL: CLGRAPH_DEVICE, else default */
    bool profiling;     /* create the queue with profiling enabled (event times) */
    bool no_cache;      /* never read or write the program cache (also CLGRAPH_NO_CACHE=1) */
    const char *cache_dir; /* NULL: $XDG_CACHE_HOME/clgraph, else ~/.cache/clgraph */
    /* The first time a convolution of a shape and pass runs that the tuning file has no choice
     * for, time both algorithms on it (on scratch outputs: the call's results are not touched)
     * and remember the faster in the tuning file, as cuDNN's benchmark mode does; needs the
     * cache (where the file lives). CLGRAPH_AUTOTUNE=0 or =1 overrides this. Which kernels ran
     * decides the last bits of a result: a run with autotune off uses the file and the
     * defaults only. */
    bool autotune;
} cg_context_options;

/* Opens the chosen device: context, one in-order queue, and an empty program table.
 * options may be NULL for the defaults. */
cg_status cg_context_create(const cg_context_options *options, cg_context **out);

/* Releases everything the context owns. NULL is allowed. */
void cg_context_destroy(cg_context *ctx);

/* The description of the context's device. */
const cg_device_info *cg_context_device(const cg_context *ctx);

/* The folder where compiled programs are cached, or NULL when caching is off. */
const char *cg_context_cache_dir(const cg_context *ctx);

/* Where the context's kernel settings come from: the device's tuning file (written by
 * `clgraph tune`), or why the defaults apply (none yet, cache off, or a corrupt or foreign file
 * that was ignored). */
const char *cg_context_tuning(const cg_context *ctx);

/* Reads the device's tuning file again: what `clgraph tune`, or another context's autotune,
 * wrote since this context opened. */
void cg_context_reload_tuning(cg_context *ctx);

/* The same as a state, for a caller that acts on it. */
typedef enum cg_tuning_state {
    CG_TUNING_NONE_YET,  /* no tuning file yet: `clgraph tune` writes one */
    CG_TUNING_LOADED,    /* the device's tuning file applies */
    CG_TUNING_CACHE_OFF, /* the kernel cache is off, and with it the tuning file */
    CG_TUNING_IGNORED,   /* a corrupt or foreign file, ignored */
    CG_TUNING_FROM_RUNS, /* a file with only what runs measured (autotune): convolution
                            algorithms; `clgraph tune` measures the rest */
} cg_tuning_state;
cg_tuning_state cg_context_tuning_state(const cg_context *ctx);

/* How many tuned GEMM choices have been set aside since the context opened: each is tried once,
 * on its first use, and one that fails or runs more than twice as slow as CLBlast's generic
 * parameters gives way to them; cg_context_tuning then says which and why. */
int cg_context_tuning_fallbacks(const cg_context *ctx);

/* Waits until every command queued so far has finished. */
cg_status cg_context_finish(cg_context *ctx);

/* Whether training steps are recorded and replayed on this context: the device offers
 * cl_khr_command_buffer and CLGRAPH_REPLAY allows it (default: on GPUs; 1 or 0 to choose). */
bool cg_context_replays(const cg_context *ctx);

#ifdef __cplusplus
}
#endif

#endif
