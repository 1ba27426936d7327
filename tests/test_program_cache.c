/* Program build and the disk cache: miss then hit, a corrupt, a truncated and a foreign cache
 * file are each detected, rebuilt and replaced; the cache can be switched off; a bad kernel
 * source fails with the driver's build log naming the file and line; CLGRAPH_KERNEL_DIR loads
 * sources from disk. Each case works in its own fresh cache folder. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/device_internal.h"
#include "harness.h"

static const char good_source[] =
    "__kernel void twice(__global float *x, const uint n) {\n"
    "    uint i = get_global_id(0);\n"
    "    if (i < n) x[i] *= 2.0f;\n"
    "}\n";

static char base_dir[256];
static int case_number = 0;

static cg_context *open_fresh(char *dir, size_t cap) {
    snprintf(dir, cap, "%s/case%d", base_dir, case_number++);
    cg_context_options o = {.cache_dir = dir};
    return cgt_open(&o);
}

static void build(cg_context *ctx, const char *source, cg__program_origin want,
                  const char *what) {
    cl_program prog = NULL;
    cg__program_origin origin = CG__PROGRAM_MEMORY;
    cg_status st = cg__program_build(ctx, "twice.cl", NULL, source, NULL, &prog, &origin);
    CHECK(st == CG_OK, "%s: build: %s", what, cg_error_message());
    CHECK(origin == want, "%s: origin '%s', want '%s'", what, cg__program_origin_str(origin),
          cg__program_origin_str(want));
    if (st != CG_OK)
        return;
    /* Whatever its origin, the program must work: run it once. */
    cl_int err;
    cl_kernel k = clCreateKernel(prog, "twice", &err);
    CHECK(err == CL_SUCCESS, "%s: kernel from program: %d", what, err);
    if (err == CL_SUCCESS) {
        float x[5] = {1, 2, 3, 4, 5};
        cl_mem buf;
        CHECK_OK(cg__buffer_create(ctx, sizeof x, &buf));
        CHECK_OK(cg__buffer_write(ctx, buf, x, sizeof x));
        cl_uint n = 5;
        clSetKernelArg(k, 0, sizeof buf, &buf);
        clSetKernelArg(k, 1, sizeof n, &n);
        CHECK_OK(cg__launch_1d(ctx, k, 5, 0));
        CHECK_OK(cg__buffer_read(ctx, buf, x, sizeof x));
        CHECK(x[0] == 2 && x[4] == 10, "%s: kernel result %g %g", what, x[0], x[4]);
        clReleaseMemObject(buf);
        clReleaseKernel(k);
    }
    clReleaseProgram(prog);
}

static void cache_file(cg_context *ctx, char *path, size_t cap) {
    char key[65];
    char options[1024];
    snprintf(options, sizeof options, "%s", ctx->base_options);
    cg__program_cache_key(ctx, NULL, good_source, options, key);
    cg__program_cache_path(ctx, key, path, cap);
}

static long file_size(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 ? (long)s.st_size : -1;
}

static void test_miss_then_hit(void) {
    char dir[512], path[4096];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    build(ctx, good_source, CG__PROGRAM_BUILT, "first build");
    cache_file(ctx, path, sizeof path);
    CHECK(file_size(path) > 0, "cache file %s written", path);
    build(ctx, good_source, CG__PROGRAM_CACHE_HIT, "second build");
    /* Other options are another key, so another file. */
    cl_program prog;
    cg__program_origin origin;
    CHECK_OK(cg__program_build(ctx, "twice.cl", NULL, good_source, "-DUNUSED=1", &prog, &origin));
    CHECK(origin == CG__PROGRAM_BUILT, "other options miss: %s", cg__program_origin_str(origin));
    clReleaseProgram(prog);
    cg_context_destroy(ctx);
}

static void damage_and_rebuild(const char *what, void (*damage)(const char *path, long size)) {
    char dir[512], path[4096];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    build(ctx, good_source, CG__PROGRAM_BUILT, what);
    cache_file(ctx, path, sizeof path);
    long size = file_size(path);
    damage(path, size);
    build(ctx, good_source, CG__PROGRAM_REBUILT, what);
    CHECK(file_size(path) == size, "%s: file replaced with a whole one (%ld, want %ld)", what,
          file_size(path), size);
    build(ctx, good_source, CG__PROGRAM_CACHE_HIT, what);
    cg_context_destroy(ctx);
}

static void flip_byte(const char *path, long size) {
    FILE *f = fopen(path, "r+b");
    fseek(f, size - 7, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size - 7, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static void truncate_half(const char *path, long size) {
    CHECK(truncate(path, size / 2) == 0, "truncate");
}

static void foreign(const char *path, long size) {
    (void)size;
    /* A valid cache file of another program, put under this program's name. */
    FILE *f = fopen(path, "wb");
    static const char other[] = "__kernel void other(__global float *x) { x[0] = 1.0f; }\n";
    fclose(f);
    char dir[512];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    cl_program prog;
    CHECK_OK(cg__program_build(ctx, "other.cl", NULL, other, NULL, &prog, NULL));
    clReleaseProgram(prog);
    char key[65], other_path[4096];
    cg__program_cache_key(ctx, NULL, other, ctx->base_options, key);
    cg__program_cache_path(ctx, key, other_path, sizeof other_path);
    CHECK(rename(other_path, path) == 0, "move %s over %s", other_path, path);
    cg_context_destroy(ctx);
}

/* This program's header (its key, the right size and checksum) around another program's
 * binary: the header checks pass, the kernels are not there. */
static void wrong_binary(const char *path, long size) {
    (void)size;
    FILE *f = fopen(path, "rb");
    uint8_t header[8 + 4 + 4 + 32 + 8 + 32];
    CHECK(f && fread(header, 1, sizeof header, f) == sizeof header, "read the header");
    if (f)
        fclose(f);
    char dir[512];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    static const char other[] = "__kernel void other(__global float *x) { x[0] = 1.0f; }\n";
    cl_program prog;
    CHECK_OK(cg__program_build(ctx, "other.cl", NULL, other, NULL, &prog, NULL));
    size_t n = 0;
    clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL);
    uint8_t *bin = malloc(n);
    clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL);
    clReleaseProgram(prog);
    cg_context_destroy(ctx);
    for (int i = 0; i < 8; i++)
        header[48 + i] = (uint8_t)((uint64_t)n >> (8 * i));
    cg__sha256 h;
    cg__sha256_init(&h);
    cg__sha256_update(&h, bin, n);
    cg__sha256_final(&h, header + 56);
    f = fopen(path, "wb");
    CHECK(f && fwrite(header, 1, sizeof header, f) == sizeof header && fwrite(bin, 1, n, f) == n,
          "write the wrong binary");
    if (f)
        fclose(f);
    free(bin);
}

static void garbage(const char *path, long size) {
    (void)size;
    FILE *f = fopen(path, "wb");
    fputs("not a program", f);
    fclose(f);
}

static void test_no_cache(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/off", base_dir);
    cg_context_options o = {.cache_dir = dir, .no_cache = true};
    cg_context *ctx = cgt_open(&o);
    CHECK(cg_context_cache_dir(ctx) == NULL, "cache off");
    build(ctx, good_source, CG__PROGRAM_UNCACHED, "no cache");
    CHECK(access(dir, F_OK) != 0, "nothing written to %s", dir);
    cg_context_destroy(ctx);

    setenv("CLGRAPH_NO_CACHE", "1", 1);
    cg_context_options o2 = {.cache_dir = dir};
    ctx = cgt_open(&o2);
    CHECK(cg_context_cache_dir(ctx) == NULL, "CLGRAPH_NO_CACHE=1 turns the cache off");
    cg_context_destroy(ctx);
    unsetenv("CLGRAPH_NO_CACHE");
}

static void test_bad_source(void) {
    char dir[512];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    static const char bad[] = "__kernel void broken(__global float *x) {\n"
                              "    x[0] = undefined_name;\n"
                              "}\n";
    cl_program prog = NULL;
    cg_status st = cg__program_build(ctx, "broken.cl", NULL, bad, NULL, &prog, NULL);
    CHECK(st == CG_ERR_BUILD, "bad source fails with CG_ERR_BUILD, got %s", cg_status_str(st));
    const char *msg = cg_error_message();
    CHECK_CONTAINS(msg, "building broken.cl");
    CHECK_CONTAINS(msg, "CL_BUILD_PROGRAM_FAILURE");
    CHECK_CONTAINS(msg, "build log:");
    CHECK_CONTAINS(msg, "undefined_name");
    CHECK_CONTAINS(msg, "broken.cl:2"); /* the #line directive makes the log name file and line */
    cg_context_destroy(ctx);
}

static void test_kernel_dir(void) {
    char dir[512], kdir[512];
    snprintf(kdir, sizeof kdir, "%s/kernels", base_dir);
    CHECK(mkdir(kdir, 0755) == 0, "mkdir %s", kdir);
    char path[600];
    snprintf(path, sizeof path, "%s/core.cl", kdir);
    FILE *f = fopen(path, "w");
    fputs(good_source, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/common.cl", kdir);
    f = fopen(path, "w");
    fputs("/* an empty prelude */\n", f);
    fclose(f);
    setenv("CLGRAPH_KERNEL_DIR", kdir, 1);
    cg_context *ctx = open_fresh(dir, sizeof dir);
    cl_kernel k;
    CHECK_OK(cg__kernel_create(ctx, "core.cl", NULL, "twice", &k));
    clReleaseKernel(k);
    cg_status st = cg__kernel_create(ctx, "absent.cl", NULL, "x", &k);
    CHECK(st == CG_ERR_IO, "missing file in CLGRAPH_KERNEL_DIR: %s", cg_status_str(st));
    CHECK_CONTAINS(cg_error_message(), "CLGRAPH_KERNEL_DIR=");
    CHECK_CONTAINS(cg_error_message(), "absent.cl");
    unsetenv("CLGRAPH_KERNEL_DIR");
    st = cg__kernel_create(ctx, "absent.cl", NULL, "x", &k);
    CHECK(st == CG_ERR_NOT_FOUND, "unknown embedded file: %s", cg_status_str(st));
    /* The embedded core.cl is a different source, so it is another program with fill_f32. */
    CHECK_OK(cg__kernel_create(ctx, "core.cl", "-DOTHER=1", "fill_f32", &k));
    clReleaseKernel(k);
    cg_context_destroy(ctx);
}

/* Programs are built with -cl-denorms-are-zero (context.c says why): on PoCL a denormal result
 * (1e-20 squared) and a denormal operand (1e-39 times 1e10) both come out 0, from a fresh build
 * and from the cache; another driver may keep them, but gives either 0 or the exact value. */
static void test_denormals_flushed(void) {
    static const char source[] = "__kernel void tiny(__global float *x) {\n"
                                 "    if (get_global_id(0) != 0) return;\n"
                                 "    x[0] = x[0] * x[0];\n"
                                 "    x[1] = x[1] * 1e10f;\n"
                                 "}\n";
    char dir[512];
    cg_context *ctx = open_fresh(dir, sizeof dir);
    CHECK_CONTAINS(ctx->base_options, "-cl-denorms-are-zero");
    const bool pocl = strstr(ctx->base_options, "CG_VENDOR_POCL") != NULL;
    for (int round = 0; round < 2; round++) { /* built, then read from the cache */
        if (round == 1) {
            cg_context_destroy(ctx);
            cg_context_options o = {.cache_dir = dir};
            ctx = cgt_open(&o);
        }
        cl_program prog = NULL;
        cg__program_origin origin = CG__PROGRAM_MEMORY;
        CHECK_OK(cg__program_build(ctx, "tiny.cl", NULL, source, NULL, &prog, &origin));
        CHECK(origin == (round ? CG__PROGRAM_CACHE_HIT : CG__PROGRAM_BUILT), "round %d: origin %s",
              round, cg__program_origin_str(origin));
        cl_int err;
        cl_kernel k = clCreateKernel(prog, "tiny", &err);
        float x[2] = {1e-20f, 1e-39f};
        const float exact[2] = {x[0] * x[0], x[1] * 1e10f};
        cl_mem buf;
        CHECK_OK(cg__buffer_create(ctx, sizeof x, &buf));
        CHECK_OK(cg__buffer_write(ctx, buf, x, sizeof x));
        clSetKernelArg(k, 0, sizeof buf, &buf);
        CHECK_OK(cg__launch_1d(ctx, k, 1, 0));
        CHECK_OK(cg__buffer_read(ctx, buf, x, sizeof x));
        for (int i = 0; i < 2; i++) {
            CHECK(x[i] == 0.0f || x[i] == exact[i], "round %d, value %d: %g, want 0 or %g", round,
                  i, x[i], exact[i]);
            if (pocl)
                CHECK(x[i] == 0.0f, "round %d: PoCL flushes value %d to 0, got %g", round, i,
                      x[i]);
        }
        clReleaseMemObject(buf);
        clReleaseKernel(k);
        clReleaseProgram(prog);
    }
    cg_context_destroy(ctx);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(base_dir, sizeof base_dir, "%s/clgraph-cache-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(base_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_miss_then_hit();
    damage_and_rebuild("corrupt byte", flip_byte);
    damage_and_rebuild("truncated", truncate_half);
    damage_and_rebuild("foreign", foreign);
    damage_and_rebuild("another program's binary", wrong_binary);
    damage_and_rebuild("garbage", garbage);
    test_no_cache();
    test_bad_source();
    test_kernel_dir();
    test_denormals_flushed();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", base_dir);
    return cgt_finish("test_program_cache");
}
