/* The device layer's internal interface: the context layout, kernel programs (embedded sources,
 * run-time build, disk cache), buffers and GEMM. Layers above use these; pipelines never do. */
#ifndef CG_DEVICE_INTERNAL_H
#define CG_DEVICE_INTERNAL_H

#include <CL/cl.h>

#include "clgraph/device.h"
#include "core/common.h"

/* One embedded .cl file (generated into kernels_embedded.c at build time). */
typedef struct cg__kernel_source {
    const char *name; /* "core.cl" */
    const char *text; /* NUL-terminated */
    size_t size;      /* without the NUL */
} cg__kernel_source;

extern const cg__kernel_source cg__kernel_sources[];
extern const size_t cg__kernel_source_count;

/* Where a program came from, for reports and tests. */
typedef enum cg__program_origin {
    CG__PROGRAM_MEMORY,    /* already built in this context */
    CG__PROGRAM_CACHE_HIT, /* loaded from the disk cache */
    CG__PROGRAM_BUILT,     /* compiled from source; cache miss, now stored */
    CG__PROGRAM_REBUILT,   /* the cache file was corrupt, truncated or foreign: rebuilt, replaced */
    CG__PROGRAM_UNCACHED,  /* compiled from source with the cache off */
} cg__program_origin;

const char *cg__program_origin_str(cg__program_origin origin);

typedef struct cg__program_entry {
    char *file;    /* "core.cl" */
    char *defines; /* extra options, "" for none */
    cl_program program;
} cg__program_entry;

/* One created kernel, kept for the context's lifetime: creating a cl_kernel per launch would cost
 * host time on every step. */
typedef struct cg__kernel_entry {
    uint64_t hash;
    char *key; /* "file|defines|name" */
    cl_kernel kernel;
    size_t max_local; /* CL_KERNEL_WORK_GROUP_SIZE for this device */
} cg__kernel_entry;

/* One recorded launch (see profile.c). */
typedef struct cg__launch_record {
    char label[80];  /* the graph node and pass that launched it, "lenet.0 backward" */
    char kernel[48]; /* "im2col", "clblast_sgemm" */
    size_t items;    /* work-items (m * n for a GEMM) */
    double bytes;    /* the sizes of the buffers it was given */
    double flops;    /* floating-point operations, 0 where the launcher does not say */
    bool has_note;
    uint32_t note[11]; /* a convolution's shape key (cg__profile_note) */
    bool is_gemm;
    uint32_t gemm[5]; /* a GEMM's shape key: trans_a trans_b m n k */
    cl_event event;
} cg__launch_record;

typedef struct cg__profiler {
    cg__launch_record *rec;
    size_t n, cap;
    char label[80];
    double next_flops;
    double next_bytes;
    bool has_note;
    uint32_t note[11];
} cg__profiler;

/* Convolution algorithms (conv2d's `algo`). */
enum { CG_CONV_AUTO = 0, CG_CONV_IM2COL = 1, CG_CONV_DIRECT = 2 };

/* One convolution shape's measured best algorithms, forward and backward:
 * key = N C H W O KH KW SH SW PH PW. */
#define CG__MAX_TUNED_CONV 256
typedef struct cg__conv_tune {
    uint32_t key[11];
    int algo[2]; /* [0] forward, [1] backward */
} cg__conv_tune;

/* CLBlast's direct GEMM kernel parameters, in the order of cg__gemm_param_names. */
#define CG__GEMM_PARAMS 10
extern const char *const cg__gemm_param_names[CG__GEMM_PARAMS];

/* One GEMM shape's measured best parameters: key = trans_a trans_b m n k. */
#define CG__MAX_TUNED_GEMM 256
typedef struct cg__gemm_tune {
    uint32_t key[5];
    size_t params[CG__GEMM_PARAMS];
    signed char verdict; /* 0: not tried yet; 1: stands; -1: failed or far slower, not used */
} cg__gemm_tune;

/* What the tuning file says (tuning.c), and what `clgraph tune` forces while it measures. */
typedef struct cg__tuning {
    cg_tuning_state state;
    size_t local_1d; /* 0: the built-in default */
    bool has_chunk;
    int im2col_chunk; /* 0: a whole row */
    int n_conv;
    cg__conv_tune conv[CG__MAX_TUNED_CONV];
    int n_stale_conv; /* conv2d lines set aside: measured against other kernels */
    int n_gemm;
    cg__gemm_tune gemm[CG__MAX_TUNED_GEMM];
    bool has_gemm_default;
    size_t gemm_default[CG__GEMM_PARAMS]; /* for GEMM shapes without an entry of their own */
    signed char default_verdict; /* gemm_default's, tried on the first shape that uses it */
    int n_fallbacks;             /* tuned GEMM choices set aside since the context opened */
    const size_t *gemm_applied; /* the parameters CLBlast was last given, NULL for none */
    const size_t *force_gemm;   /* every GEMM uses these (while tuning), NULL: as tuned */
    int force_conv;  /* CG_CONV_*: every conv2d uses it (while tuning) */
    int force_chunk; /* > 0: im2col chunk; -1: a whole row; 0: as tuned */
    char note[4400]; /* where the tuning came from, or why there is none */
} cg__tuning;

struct cg_context {
    cg_device_info info;
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    bool profiling;
    char *cache_dir; /* NULL when caching is off */
    char base_options[256];
    cg__program_entry *programs;
    size_t program_count, program_cap;
    cg__kernel_entry *kernels; /* open-addressing table, kernel_cap a power of two */
    size_t kernel_count, kernel_cap;
    size_t default_local; /* work-group size for 1-D element-wise launches */
    size_t align;         /* sub-buffer origin alignment in bytes (CL_DEVICE_MEM_BASE_ADDR_ALIGN) */
    cg__profiler *prof;   /* launches are recorded while set (the queue must profile) */
    cg__tuning tuning;
    /* GEMMs through our own kernels (gemm.cl) instead of CLBlast: on CPUs, where they run 2-4x
     * faster than CLBlast's GPU-tuned ones; CLGRAPH_GEMM=clblast or =own chooses. */
    bool gemm_own;
    /* Convolution algorithms are measured on first use where the tuning file has no choice
     * (cg_context_options.autotune; only with a cache folder for the file). */
    bool autotune;
    cl_mem gemm_tmp; /* B transposed for an A B^T product (own_sgemm), grown as needed */
    size_t gemm_tmp_bytes;
    size_t gemm_transpose_max; /* larger B: gemm_dots (64 MiB; the self-test sets 0) */
    size_t gemm_rows_first_max; /* gemm_rows walks down C's columns where A is at most this
                                   or no larger than B (1 MiB; the self-test sets 0) */
    void *cb_api;          /* cl_khr_command_buffer's entry points; NULL: steps never replay */
    bool cb_simultaneous;  /* a command buffer may be enqueued again before it has finished */
    bool cb_checked;       /* the command buffers' known-answer check ran (replay.c) */
    size_t cb_test_drop;   /* tests: recordings leave out their launch number cb_test_drop
                              (from 1; 0 none), as a faulty driver might */
    struct cg__replay *replay; /* the open recording or replay region (replay.c), or NULL */
    cl_mem zero_words;     /* 16 bytes of zeros: the counter base of launches outside a graph */
};

/* The text of a kernel file: from CLGRAPH_KERNEL_DIR when set, else the embedded copy.
 * *owned is set when the caller must free *text. */
cg_status cg__kernel_source_get(const char *file, const char **text, char **owned);

/* The program for (file, defines), building or loading it once per context. defines are extra
 * compiler options such as "-DTILE=16" (NULL for none). origin and ms may be NULL. */
cg_status cg__program_get(cg_context *ctx, const char *file, const char *defines,
                          cl_program *out, cg__program_origin *origin, double *ms);

/* The kernel file put in front of every other program: device helpers shared by all. */
#define CG__PRELUDE_FILE "common.cl"

/* Builds a program from the given source text (after prelude, when not NULL), through the disk
 * cache. file names the source in messages and build logs. The caller releases *out. */
cg_status cg__program_build(cg_context *ctx, const char *file, const char *prelude,
                            const char *source, const char *defines, cl_program *out,
                            cg__program_origin *origin);

/* The cache key of a (prelude, source, options) triple on this context's device: 64 hex
 * digits. */
void cg__program_cache_key(const cg_context *ctx, const char *prelude, const char *source,
                           const char *options, char key[65]);

/* The cache file path of a key. */
void cg__program_cache_path(const cg_context *ctx, const char *key, char *path, size_t cap);

/* Creates a kernel from the program for (file, defines). The caller releases it. */
cg_status cg__kernel_create(cg_context *ctx, const char *file, const char *defines,
                            const char *kernel, cl_kernel *out);

/* The context's kernel (file, defines, name), created on first use and kept. *max_local (may be
 * NULL) receives the largest work-group this kernel can run with on the device. */
cg_status cg__kernel_get(cg_context *ctx, const char *file, const char *defines, const char *name,
                         cl_kernel *out, size_t *max_local);

/* A kernel argument for cg__kernel_run: its size and a pointer to its value. */
typedef struct cg__karg {
    size_t size;
    const void *value;
} cg__karg;

#define CG_KMEM(m) ((cg__karg){sizeof(cl_mem), &(m)})
#define CG_KU32(v) ((cg__karg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define CG_KI32(v) ((cg__karg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define CG_KF32(v) ((cg__karg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define CG_KLOCAL(bytes) ((cg__karg){(bytes), NULL})

/* Sets the arguments of kernel (file, name) and enqueues it over a 1-D range of n work-items
 * (rounded up to the work-group size; local 0 picks the context default). */
cg_status cg__kernel_run1d(cg_context *ctx, const char *file, const char *name, size_t n,
                           size_t local, const cg__karg *args, size_t nargs);

/* The same over an explicit 1- to 3-D range: global sizes are rounded up to local sizes. */
cg_status cg__kernel_run(cg_context *ctx, const char *file, const char *name, int dims,
                         const size_t *global, const size_t *local, const cg__karg *args,
                         size_t nargs);

/* A work-group for a 1- to 3-D range: each dimension in turn, its size doubles from 1 while it
 * is below the range's and the items of the dimensions so far are below caps[d] (pad_rows:
 * {64, 256}, a row of up to 64 columns by as many rows as make 256 items). */
void cg__local_within(int dims, const size_t *global, const size_t *caps, size_t *local);

/* The width (16, 8 or 4) of the column blocks that a vector kernel (the direct convolutions,
 * our GEMM) computes along a row of `cols` columns: the one that minimises the columns computed
 * plus a per-block overhead worth 8 columns (measured on PoCL: one block of 16 beats two of 8
 * for 10 columns, two of 8 beat one of 16 for 8). */
uint32_t cg__vector_width(size_t cols);

/* The same for the kernel of the program built with `defines` ("-DOT=8"; NULL for none). */
cg_status cg__kernel_run_defs(cg_context *ctx, const char *file, const char *defines,
                              const char *name, int dims, const size_t *global,
                              const size_t *local, const cg__karg *args, size_t nargs);

/* ---- recorded steps (replay.c) ---- */
typedef struct cg__replay cg__replay;

/* Looks up cl_khr_command_buffer where the device has it and CLGRAPH_REPLAY allows (default:
 * GPUs; 0 never, 1 wherever the driver offers it). */
void cg__replay_setup(cg_context *ctx);
bool cg__replay_available(const cg_context *ctx);

/* A recorder for one kind of region (a graph's training step); *out is NULL where steps do
 * not replay on this context. */
cg_status cg__replay_new(cg_context *ctx, cg__replay **out);
void cg__replay_free(cg_context *ctx, cg__replay *r);
cg_replay_stats cg__replay_stats(const cg__replay *r);

/* Opens a region of r (nothing happens for NULL, while profiling, or after r gave up): the
 * launches until cg__replay_close are recorded, or checked against the recording and replayed
 * (see replay.c). *replayed (may be NULL) tells whether the recording ran in their stead. */
void cg__replay_open(cg_context *ctx, cg__replay *r);
cg_status cg__replay_close(cg_context *ctx, cg__replay *r, bool *replayed);

/* For the launch helpers: before a launch, whether it is held back (it matches the recording);
 * after one ran, its record. args NULL: arguments set by the caller (never replayed). */
cg_status cg__replay_launch(cg_context *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                            const size_t *local, const cg__karg *args, size_t nargs, bool *held);
void cg__replay_launched(cg_context *ctx, cl_kernel k, cl_uint dims, const size_t *global,
                         const size_t *local, const cg__karg *args, size_t nargs);

/* Called before anything but a kernel launch is enqueued: a copy, a read or write, a CLBlast
 * call, a wait. The open region, if any, goes on without replay. */
cg_status cg__replay_interrupt(cg_context *ctx);

/* The context's 16 bytes of zeros (a random-number counter base for launches outside a
 * graph). */
cl_mem cg__zero_words(cg_context *ctx);

/* A view of [offset, offset + bytes) of buf; offset must be a multiple of ctx->align. */
cg_status cg__buffer_view(cg_context *ctx, cl_mem buf, size_t offset, size_t bytes, cl_mem *out);

/* Fills n floats of buf with value (one launch, no waiting). */
cg_status cg__fill(cg_context *ctx, cl_mem buf, float value, size_t n);

/* y[i] += the sum over the chunks of part[part_off + k * n + i], i < n (one launch, no waiting):
 * the second step of reductions that write one partial sum per chunk of their work. */
cg_status cg__add_chunk_sums(cg_context *ctx, cl_mem y, cl_mem part, uint32_t part_off,
                            uint32_t chunks, size_t n);

/* Buffer helpers. Every failure names the size and the OpenCL error. */
cg_status cg__buffer_create(cg_context *ctx, size_t bytes, cl_mem *out);
cg_status cg__buffer_write(cg_context *ctx, cl_mem buf, const void *src, size_t bytes);
cg_status cg__buffer_read(cg_context *ctx, cl_mem buf, void *dst, size_t bytes);
/* Sets the first 16 bytes of buf to pattern without waiting (the pattern is copied at once). */
cg_status cg__buffer_fill16(cg_context *ctx, cl_mem buf, const void *pattern);
/* Copies bytes from src at src_off to dst at dst_off on the queue (no waiting). */
cg_status cg__buffer_copy(cg_context *ctx, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                          size_t bytes);
/* Releases a buffer; NULL is fine. */
void cg__buffer_release(cl_mem buf);

/* Enqueues a 1-D kernel whose arguments are set over n items, with the work-group rule of
 * cg__kernel_run1d (within the kernel's own limit), rounding the global size up. */
cg_status cg__launch_1d(cg_context *ctx, cl_kernel kernel, size_t n, size_t local);

/* Launch recording for the benchmark (profile.c). Attach a profiler (NULL detaches) to a context
 * whose queue profiles; label and flops describe the launches that follow. A launcher asks
 * cg__profile_record for a new record (NULL when not recording), whose event it passes to its
 * enqueue: bytes are the sizes of the cl_mem arguments when args is given, else `bytes`.
 * cg__profile_event is the same for a kernel launch, giving the event pointer alone. */
void cg__profile_attach(cg_context *ctx, cg__profiler *p);
bool cg__profiling(const cg_context *ctx);
void cg__profile_label(cg_context *ctx, const char *fmt, ...);
void cg__profile_flops(cg_context *ctx, double flops);
/* The bytes the next launch reads and writes, where its buffers are parts of larger ones (the
 * scratch buffer, GEMM operands at offsets): counted instead of the whole buffers' sizes. */
void cg__profile_bytes(cg_context *ctx, double bytes);
/* Tags the launches up to the next label with a convolution's shape key. */
void cg__profile_note(cg_context *ctx, const uint32_t key[11]);
cg__launch_record *cg__profile_record(cg_context *ctx, const char *kernel, size_t items,
                                      double bytes, const cg__karg *args, size_t nargs);
cl_event *cg__profile_event(cg_context *ctx, const char *kernel, size_t items,
                            const cg__karg *args, size_t nargs);
/* A recorded event's run time in microseconds (start to end), or -1 when unknown. */
double cg__profile_event_us(cl_event e);
void cg__profile_clear(cg__profiler *p); /* releases the events, keeps the storage */
void cg__profile_free(cg__profiler *p);

/* The work-group size of 1-D launches when no tuning says otherwise: 256 work-items suit GPUs
 * of every vendor; CPUs run a work-group per core, where fewer, larger groups cost less
 * scheduling (512). Never more than the device allows. */
size_t cg__builtin_local(const cg_device_info *info);

/* The tuning file (tuning.c). Loaded when a context opens; a missing or corrupt file leaves the
 * defaults. cg__tuning_save writes t as this device's file and reloads it. */
bool cg__tuning_path(const cg_context *ctx, char *path, size_t cap);
void cg__tuning_load(cg_context *ctx);
/* A digest of the kernel sources the conv2d choices depend on (common.cl, conv.cl, gemm.cl):
 * the tuning file's kernels line. */
void cg__tuning_kernels(char out[17]);
/* Parses a tuning file's text (len bytes) for a device into t; false with why when it is not
 * one for this device (a bad line, a line longer than 511 characters, another device). */
bool cg__tuning_parse(const cg_device_info *d, const char *text, size_t len, cg__tuning *t,
                      char *why, size_t cap);
cg_status cg__tuning_save(cg_context *ctx, const cg__tuning *t);
const char *cg__conv_algo_name(int algo);
/* Whether ten direct-GEMM parameters (cg__gemm_param_names order) satisfy CLBlast's
 * constraints. */
bool cg__gemm_params_valid(const size_t *params);

/* Whether valid direct-GEMM parameters suit device d and stay in the range CLBlast's own tuner
 * searches: work-groups and local memory within the device's limits, KWID (unrolled) at most 16,
 * vector widths 1 to 8, and a register tile of at most 64 floats per work-item. Outside it PoCL
 * compiled one kernel for minutes, or overflowed a thread's stack. why says what is wrong. */
#define CG__GEMM_MAX_KWID 16
#define CG__GEMM_MAX_TILE 64
bool cg__gemm_params_fit(const cg_device_info *d, const size_t *params, char *why, size_t cap);
/* Columns per im2col work-item for rows of wo columns. */
uint32_t cg__tuned_im2col_chunk(const cg_context *ctx, uint32_t wo);
/* The tuned algorithm of a convolution shape's forward (pass 0) or backward (pass 1),
 * CG_CONV_AUTO when the file has none. */
int cg__tuned_conv_algo(const cg_context *ctx, const uint32_t key[11], int pass);
/* The algorithm a convolution shape's pass runs where nothing was measured (src/ops/conv.c):
 * CG_CONV_DIRECT or CG_CONV_IM2COL. */
int cg__conv_default_algo(const cg_context *ctx, const uint32_t key[11], int pass);
/* Records the algorithm a run measured fastest for a convolution shape's pass (autotune): in
 * the context, and in the device's tuning file as it is on disk now (read again, so that what
 * other processes added stays), unless that file is being ignored or the cache is off. */
cg_status cg__tuning_remember_conv(cg_context *ctx, const uint32_t key[11], int pass, int algo);

/* Turns an OpenCL error into a status with a message naming the call and the code. */
cg_status cg__cl_fail(int code, const char *what);

#define CG__CL_CHECK(call, what)                                                                   \
    do {                                                                                           \
        cl_int cg__e = (call);                                                                     \
        if (cg__e != CL_SUCCESS)                                                                   \
            return cg__cl_fail(cg__e, what);                                                       \
    } while (0)

/* C = alpha * op(A) * op(B) + beta * C, row-major, through CLBlast on the context's queue.
 * Offsets and leading dimensions are in elements. */
cg_status cg__sgemm(cg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                    float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                    size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);

/* A batch of products C_z = alpha * op(A) * B_z + beta * C_z, z < count: one A, B_z at
 * b_off + z * stride_b and C_z at c_off + z * stride_c. Our own GEMM takes them in one launch;
 * CLBlast one at a time. */
typedef struct cg__gemm_batch {
    size_t count, stride_b, stride_c;
} cg__gemm_batch;

cg_status cg__sgemm_batched(cg_context *ctx, bool trans_a, size_t m, size_t n, size_t k,
                            float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b,
                            size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                            size_t ldc, const cg__gemm_batch *batch);

#endif
