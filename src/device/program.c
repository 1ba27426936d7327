/* Kernel programs: the source of each .cl file (embedded, or from CLGRAPH_KERNEL_DIR), the
 * run-time build with the device's options, and the on-disk cache of compiled binaries.
 *
 * A cache file holds a header and the device binary:
 *   magic "CLGPROG1" | u32 format | u32 0 | key (32 bytes) | u64 payload size | sha256(payload)
 * followed by the payload. The key is a SHA-256 over everything that can change the binary, so a
 * stale file is never found by a new key; the stored key catches a file copied under another
 * name, the size and digest catch truncation and corruption. A bad file is rebuilt and replaced.
 * Files are written under a temporary name and renamed, so a reader never sees half a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/device_internal.h"

#define CACHE_MAGIC "CLGPROG1"
#define CACHE_FORMAT 1u
#define CACHE_HEADER (8 + 4 + 4 + 32 + 8 + 32)

const char *cg__program_origin_str(cg__program_origin origin) {
    switch (origin) {
    case CG__PROGRAM_MEMORY:
        return "already built";
    case CG__PROGRAM_CACHE_HIT:
        return "cache hit";
    case CG__PROGRAM_BUILT:
        return "built, cache miss";
    case CG__PROGRAM_REBUILT:
        return "built, bad cache file replaced";
    case CG__PROGRAM_UNCACHED:
        return "built, cache off";
    }
    return "?";
}

cg_status cg__kernel_source_get(const char *file, const char **text, char **owned) {
    *owned = NULL;
    const char *dir = getenv("CLGRAPH_KERNEL_DIR");
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        cg_status st = cg__read_file(path, owned, NULL);
        if (st != CG_OK)
            return cg__error_prefix(st, "CLGRAPH_KERNEL_DIR=%s is set, but the kernel file is "
                                        "missing there (point it at the cl/ folder of a clgraph "
                                        "checkout, or unset it to use the built-in kernels)",
                                    dir);
        *text = *owned;
        return CG_OK;
    }
    for (size_t i = 0; i < cg__kernel_source_count; i++)
        if (strcmp(cg__kernel_sources[i].name, file) == 0) {
            *text = cg__kernel_sources[i].text;
            return CG_OK;
        }
    return cg__error(CG_ERR_NOT_FOUND, "no kernel file named '%s' is built into this clgraph",
                     file);
}

static void full_options(const cg_context *ctx, const char *defines, char *out, size_t cap) {
    snprintf(out, cap, "%s%s%s", ctx->base_options, defines && *defines ? " " : "",
             defines ? defines : "");
}

void cg__program_cache_key(const cg_context *ctx, const char *prelude, const char *source,
                           const char *options, char key[65]) {
    /* Each part is followed by a NUL so that "ab"+"c" and "a"+"bc" hash differently. */
    const char *parts[] = {"clgraph",
                           CLGRAPH_VERSION,
                           ctx->info.platform_name,
                           ctx->info.platform_version,
                           ctx->info.name,
                           ctx->info.driver_version,
                           ctx->info.device_version,
                           options,
                           prelude ? prelude : "",
                           source};
    cg__sha256 h;
    cg__sha256_init(&h);
    for (size_t i = 0; i < CG__ARRAY_LEN(parts); i++)
        cg__sha256_update(&h, parts[i], strlen(parts[i]) + 1);
    uint8_t digest[32];
    cg__sha256_final(&h, digest);
    cg__hex(key, digest, 32);
}

void cg__program_cache_path(const cg_context *ctx, const char *key, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s.clbin", ctx->cache_dir ? ctx->cache_dir : ".", key);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void key_bytes(const char *key, uint8_t out[32]) {
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(key + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* Reads and checks a cache file. Returns 1 and the payload when valid, 0 when there is no file,
 * -1 when a file exists but is corrupt, truncated or belongs to another key. */
static int cache_read(const char *path, const char *key, uint8_t **payload, size_t *size) {
    char *data = NULL;
    size_t len = 0;
    if (access(path, F_OK) != 0)
        return 0;
    if (cg__read_file(path, &data, &len) != CG_OK)
        return -1;
    uint8_t want_key[32], digest[32];
    key_bytes(key, want_key);
    const uint8_t *p = (const uint8_t *)data;
    int ok = len >= CACHE_HEADER && memcmp(p, CACHE_MAGIC, 8) == 0 &&
             get_u32(p + 8) == CACHE_FORMAT && memcmp(p + 16, want_key, 32) == 0 &&
             get_u64(p + 48) == len - CACHE_HEADER;
    if (ok) {
        cg__sha256 h;
        cg__sha256_init(&h);
        cg__sha256_update(&h, p + CACHE_HEADER, len - CACHE_HEADER);
        cg__sha256_final(&h, digest);
        ok = memcmp(digest, p + 56, 32) == 0;
    }
    if (!ok) {
        free(data);
        return -1;
    }
    memmove(data, data + CACHE_HEADER, len - CACHE_HEADER);
    *payload = (uint8_t *)data;
    *size = len - CACHE_HEADER;
    return 1;
}

/* Best effort: a cache that cannot be written only costs the next run a compile. */
static void cache_write(const cg_context *ctx, const char *key, const uint8_t *payload,
                        size_t size) {
    if (cg__mkdir_p(ctx->cache_dir) != CG_OK)
        return;
    static _Thread_local unsigned counter;
    char path[4096], tmp[4200];
    cg__program_cache_path(ctx, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), counter++);
    uint8_t header[CACHE_HEADER] = {0};
    memcpy(header, CACHE_MAGIC, 8);
    put_u32(header + 8, CACHE_FORMAT);
    key_bytes(key, header + 16);
    put_u64(header + 48, size);
    cg__sha256 h;
    cg__sha256_init(&h);
    cg__sha256_update(&h, payload, size);
    cg__sha256_final(&h, header + 56);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    int ok = fwrite(header, 1, sizeof header, f) == sizeof header &&
             fwrite(payload, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        remove(tmp);
}

static cg_status build_log_error(cg_context *ctx, cl_program prog, cl_int err, const char *file,
                                 const char *options) {
    size_t log_size = 0;
    char *log = NULL;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
    if (log_size > 0 && (log = malloc(log_size + 1)) != NULL) {
        clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
        log[log_size] = '\0';
    }
    cg_status st = cg__error(CG_ERR_BUILD,
                             "building %s for %s failed with %s; options: %s\nbuild log:\n%s",
                             file, ctx->info.name, cg__cl_error_name(err), options,
                             log && *log ? log : "(the driver gave no log)");
    free(log);
    return st;
}

/* Compiles from source, after the prelude when there is one. The #line directives make the
 * driver's log name the .cl file (and the prelude's own file) with the right line. */
static cg_status build_from_source(cg_context *ctx, const char *file, const char *prelude,
                                   const char *source, const char *options, cl_program *out) {
    char line[512], prelude_line[64];
    snprintf(line, sizeof line, "\n#line 1 \"%s\"\n", file);
    snprintf(prelude_line, sizeof prelude_line, "#line 1 \"%s\"\n", CG__PRELUDE_FILE);
    const char *parts[4] = {prelude_line, prelude ? prelude : "", line, source};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(ctx->context, 4, parts, NULL, &err);
    if (err != CL_SUCCESS)
        return cg__cl_fail(err, "clCreateProgramWithSource");
    err = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        cg_status st = build_log_error(ctx, prog, err, file, options);
        clReleaseProgram(prog);
        return st;
    }
    *out = prog;
    return CG_OK;
}

static cg_status build_from_binary(cg_context *ctx, const uint8_t *bin, size_t size,
                                   const char *options, cl_program *out) {
    cl_int err, bin_status;
    cl_program prog = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &size, &bin,
                                                &bin_status, &err);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (prog)
            clReleaseProgram(prog);
        return CG_ERR_BUILD;
    }
    if (clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return CG_ERR_BUILD;
    }
    *out = prog;
    return CG_OK;
}

static void store_binary(cg_context *ctx, cl_program prog, const char *key) {
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS ||
        size == 0)
        return;
    uint8_t *bin = malloc(size);
    if (!bin)
        return;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS)
        cache_write(ctx, key, bin, size);
    free(bin);
}

/* Whether the program holds every kernel the source declares ("__kernel void NAME("): a cache
 * file whose header is right for this source around another program's binary (a copy, a bug,
 * a tool) would otherwise be loaded on every run and fail at clCreateKernel. */
static bool has_source_kernels(cl_program prog, const char *source) {
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, 0, NULL, &size) != CL_SUCCESS)
        return false;
    char *names = malloc(size + 2);
    if (!names)
        return false;
    names[0] = ';';
    bool ok = clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, size, names + 1, NULL) ==
              CL_SUCCESS;
    names[size] = '\0'; /* the driver's string ends in a NUL at size - 1 */
    static const char decl[] = "__kernel void ";
    for (const char *p = strstr(source, decl); ok && p; p = strstr(p + 1, decl)) {
        const char *n = p + sizeof decl - 1;
        size_t len = strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        ok = false; /* find ";NAME;" or ";NAME" at the end in ";a;b;c" */
        for (const char *q = strstr(names, ";"); q && !ok; q = strchr(q + 1, ';'))
            ok = strncmp(q + 1, n, len) == 0 && (q[1 + len] == ';' || q[1 + len] == '\0');
    }
    free(names);
    return ok;
}

cg_status cg__program_build(cg_context *ctx, const char *file, const char *prelude,
                            const char *source, const char *defines, cl_program *out,
                            cg__program_origin *origin) {
    char options[1024];
    full_options(ctx, defines, options, sizeof options);
    cg__program_origin from = CG__PROGRAM_UNCACHED;
    char key[65];
    if (ctx->cache_dir) {
        char path[4096];
        cg__program_cache_key(ctx, prelude, source, options, key);
        cg__program_cache_path(ctx, key, path, sizeof path);
        uint8_t *bin = NULL;
        size_t size = 0;
        int found = cache_read(path, key, &bin, &size);
        if (found == 1 && build_from_binary(ctx, bin, size, options, out) == CG_OK) {
            if (has_source_kernels(*out, source)) {
                free(bin);
                if (origin)
                    *origin = CG__PROGRAM_CACHE_HIT;
                return CG_OK;
            }
            clReleaseProgram(*out); /* another program's binary: built again, replaced */
            found = -1;
        }
        free(bin);
        from = found == 0 ? CG__PROGRAM_BUILT : CG__PROGRAM_REBUILT;
    }
    cg_status st = build_from_source(ctx, file, prelude, source, options, out);
    if (st != CG_OK)
        return st;
    if (ctx->cache_dir)
        store_binary(ctx, *out, key);
    if (origin)
        *origin = from;
    return CG_OK;
}

cg_status cg__program_get(cg_context *ctx, const char *file, const char *defines,
                          cl_program *out, cg__program_origin *origin, double *ms) {
    double t0 = cg__now_ms();
    if (!defines)
        defines = "";
    for (size_t i = 0; i < ctx->program_count; i++) {
        cg__program_entry *e = &ctx->programs[i];
        if (strcmp(e->file, file) == 0 && strcmp(e->defines, defines) == 0) {
            *out = e->program;
            if (origin)
                *origin = CG__PROGRAM_MEMORY;
            if (ms)
                *ms = cg__now_ms() - t0;
            return CG_OK;
        }
    }
    if (ctx->program_count == ctx->program_cap) {
        size_t cap = ctx->program_cap ? 2 * ctx->program_cap : 8;
        cg__program_entry *grown = realloc(ctx->programs, cap * sizeof *grown);
        if (!grown)
            return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the program table");
        ctx->programs = grown;
        ctx->program_cap = cap;
    }
    const char *text, *prelude = NULL;
    char *owned, *prelude_owned = NULL;
    cg_status st = cg__kernel_source_get(file, &text, &owned);
    if (st != CG_OK)
        return st;
    if (strcmp(file, CG__PRELUDE_FILE) != 0 &&
        (st = cg__kernel_source_get(CG__PRELUDE_FILE, &prelude, &prelude_owned)) != CG_OK) {
        free(owned);
        return st;
    }
    cl_program prog;
    st = cg__program_build(ctx, file, prelude, text, defines, &prog, origin);
    free(owned);
    free(prelude_owned);
    if (st != CG_OK)
        return st;
    char *f = strdup(file), *d = strdup(defines);
    if (!f || !d) {
        free(f);
        free(d);
        clReleaseProgram(prog);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the program table");
    }
    ctx->programs[ctx->program_count++] = (cg__program_entry){f, d, prog};
    *out = prog;
    if (ms)
        *ms = cg__now_ms() - t0;
    return CG_OK;
}

cg_status cg__kernel_create(cg_context *ctx, const char *file, const char *defines,
                            const char *kernel, cl_kernel *out) {
    cl_program prog;
    cg_status st = cg__program_get(ctx, file, defines, &prog, NULL, NULL);
    if (st != CG_OK)
        return st;
    cl_int err;
    *out = clCreateKernel(prog, kernel, &err);
    if (err != CL_SUCCESS)
        return cg__error(CG_ERR_OPENCL, "clCreateKernel('%s') from %s failed with %s", kernel,
                         file, cg__cl_error_name(err));
    return CG_OK;
}
