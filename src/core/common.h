/* Internal helpers shared by every layer: error reporting, OpenCL error names, hashing, files,
 * time. Nothing here is part of the public interface. */
#ifndef CG_CORE_COMMON_H
#define CG_CORE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clgraph/status.h"

#if defined(__GNUC__) || defined(__clang__)
#define CG__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CG__PRINTF(f, a)
#endif

#define CG__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Records the message of a failure on this thread and returns status, so a failing path reads
 * `return cg__error(CG_ERR_IO, "cannot open %s: %s", path, strerror(errno));`. */
cg_status cg__error(cg_status status, const char *fmt, ...) CG__PRINTF(2, 3);

/* Prepends context to the thread's current message ("building core.cl: <old message>"). */
cg_status cg__error_prefix(cg_status status, const char *fmt, ...) CG__PRINTF(2, 3);

/* The symbolic name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), or "CL_ERROR_<n>". */
const char *cg__cl_error_name(int code);

/* SHA-256 of a sequence of byte strings, written as 64 lowercase hex digits plus NUL. */
typedef struct cg__sha256 {
    uint32_t state[8];
    uint64_t length;
    uint8_t block[64];
    size_t fill;
} cg__sha256;
void cg__sha256_init(cg__sha256 *h);
void cg__sha256_update(cg__sha256 *h, const void *data, size_t size);
void cg__sha256_final(cg__sha256 *h, uint8_t digest[32]);
void cg__hex(char *out, const uint8_t *bytes, size_t size);

/* Philox4x32-10 (Salmon et al. 2011): out = philox(ctr, key). */
void cg__philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Draw i of a launch, as the device kernels make it (key seed): uniform in [0, 1) from the top
 * 24 bits of word i % 4 of counter {i / 4, launch, 0, 0}, or standard normal by Box-Muller on
 * counter {i, launch, 0, 0}. */
double cg__philox_uniform(uint32_t i, uint32_t launch, const uint32_t seed[2]);
double cg__philox_normal(uint32_t i, uint32_t launch, const uint32_t seed[2]);

/* A host random stream on Philox: independent streams per (seed, stream), reproducible on
 * every machine. */
typedef struct cg__rng {
    uint32_t key[2], stream, counter, buf[4];
    int avail;
} cg__rng;
void cg__rng_init(cg__rng *r, uint64_t seed, uint32_t stream);
uint32_t cg__rng_u32(cg__rng *r);
double cg__rng_uniform(cg__rng *r);           /* [0, 1), 53 bits */
double cg__rng_normal(cg__rng *r);            /* N(0, 1) */
uint32_t cg__rng_below(cg__rng *r, uint32_t n); /* uniform in [0, n), unbiased */
void cg__rng_shuffle(cg__rng *r, int *a, int n);

/* Reads a whole file into a NUL-terminated buffer freed with free(). */
cg_status cg__read_file(const char *path, char **out, size_t *size);

/* Opens a regular file for reading, else NULL with errno (EINVAL: not a regular file; a FIFO
 * or a device in place of a cache or settings file would otherwise block or never end). */
FILE *cg__fopen_regular(const char *path);

/* Creates a folder and its parents (mode 0755); an existing folder is fine. */
cg_status cg__mkdir_p(const char *path);

/* Monotonic time in milliseconds. */
double cg__now_ms(void);

/* Case-insensitive substring test (ASCII). */
int cg__contains_nocase(const char *haystack, const char *needle);

/* Levenshtein distance between two short strings, for "did you mean" hints. */
size_t cg__edit_distance(const char *a, const char *b);

/* The candidate closest to word, or NULL when none is close enough to suggest. */
const char *cg__closest(const char *word, const char *const *candidates, size_t count);

/* A name as part of a file name (at most 64 characters): letters, digits, '-', '_' and '.'
 * (not first) kept, anything else '_'; never empty. */
void cg__file_part(char *out, size_t cap, const char *name);

/* snprintf into a fixed buffer that always terminates and cuts silently. */
void cg__copy_str(char *dst, size_t cap, const char *src);

/* The name a variant runs under at one value of a sweep: <variant>_<value>, or the value's name
 * alone without variants (variant NULL or ""). */
void cg__sweep_name(char *out, size_t cap, const char *variant, const char *value);

#endif
