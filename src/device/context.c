/* The context of one chosen device: OpenCL context, one in-order queue, compiler options that
 * suit the device, the cache folder and the table of programs built so far. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_internal.h"

void cg__device_describe(cl_platform_id p, cl_device_id d, int pi, int di, cg_device_info *info);

cg_status cg__cl_fail(int code, const char *what) {
    const char *hint = "";
    if (code == CL_OUT_OF_RESOURCES || code == CL_MEM_OBJECT_ALLOCATION_FAILURE)
        hint = "; the device ran out of memory or resources: try a smaller batch";
    return cg__error(CG_ERR_OPENCL, "%s failed with %s (%d)%s", what, cg__cl_error_name(code),
                     code, hint);
}

/* The device's cl_platform_id and cl_device_id for list entry (pi, di). */
static cg_status find_ids(int pi, int di, cl_platform_id *p, cl_device_id *d) {
    cl_uint np = 0;
    CG__CL_CHECK(clGetPlatformIDs(0, NULL, &np), "clGetPlatformIDs");
    cl_platform_id platforms[64];
    if (np > 64)
        np = 64;
    CG__CL_CHECK(clGetPlatformIDs(np, platforms, NULL), "clGetPlatformIDs");
    cl_uint nd = 0;
    CG__CL_CHECK(clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd),
                 "clGetDeviceIDs");
    cl_device_id devices[64];
    if (nd > 64)
        nd = 64;
    CG__CL_CHECK(clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, nd, devices, NULL),
                 "clGetDeviceIDs");
    *p = platforms[pi];
    *d = devices[di];
    return CG_OK;
}

/* Options every program of this device is built with: the language version, defines that let
 * a kernel adapt to the vendor and device type without run-time branches, and
 * -cl-denorms-are-zero: values below 2^-126 (1.2e-38) may be taken and given as 0. On CPUs a
 * denormal operand or result costs a microcode assist of a hundred cycles or more; gradients
 * near the end of training, or behind a saturated sigmoid, are full of them (PoCL, dae at batch
 * 64 on a Sapphire Rapids Xeon: the last decoder layer's backward 35.6 -> 2.5 ms, its step 104 ->
 * 74 ms). GPUs take denormals at full speed, so there it changes only values that small. No
 * op's result depends on them: the losses take logarithms of sums of at least 1, or log1p. */
static void base_options(const cg_device_info *info, char *out, size_t cap) {
    const char *vendor = "OTHER";
    if (cg__contains_nocase(info->platform_name, "nvidia") ||
        cg__contains_nocase(info->vendor, "nvidia"))
        vendor = "NVIDIA";
    else if (cg__contains_nocase(info->platform_name, "portable computing") ||
             cg__contains_nocase(info->platform_vendor, "pocl"))
        vendor = "POCL";
    else if (cg__contains_nocase(info->vendor, "advanced micro") ||
             cg__contains_nocase(info->platform_name, "amd"))
        vendor = "AMD";
    else if (cg__contains_nocase(info->vendor, "intel"))
        vendor = "INTEL";
    /* "OpenCL C 1.2 ..." or later: ask for 1.2, the version every current driver accepts. */
    const char *std = strncmp(info->opencl_c_version, "OpenCL C 1.0", 12) == 0 ||
                              strncmp(info->opencl_c_version, "OpenCL C 1.1", 12) == 0
                          ? ""
                          : "-cl-std=CL1.2 ";
    snprintf(out, cap, "%s-cl-denorms-are-zero -DCG_VENDOR_%s=1 -DCG_DEVICE_%s=1%s%s", std,
             vendor,
             info->type == CG_DEVICE_GPU ? "GPU" : info->type == CG_DEVICE_CPU ? "CPU" : "OTHER",
             info->fp64 ? " -DCG_HAS_FP64=1" : "", info->fma ? " -DCG_HAS_FMA=1" : "");
}

static char *cache_dir_from(const cg_context_options *o) {
    const char *off = getenv("CLGRAPH_NO_CACHE");
    if ((o && o->no_cache) || (off && *off && strcmp(off, "0") != 0))
        return NULL;
    if (o && o->cache_dir && *o->cache_dir)
        return strdup(o->cache_dir);
    char path[4096];
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/clgraph", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.cache/clgraph", home);
    else
        return NULL; /* nowhere to cache: every program is compiled, which is only slower */
    return strdup(path);
}

size_t cg__builtin_local(const cg_device_info *info) {
    size_t local = info->type == CG_DEVICE_CPU ? 512 : 256;
    return local > info->max_work_group_size ? info->max_work_group_size : local;
}

cg_status cg_context_create(const cg_context_options *options, cg_context **out) {
    *out = NULL;
    cg_device_info *list = NULL;
    size_t count = 0, index = 0;
    cg_status st = cg_device_list(&list, &count);
    if (st != CG_OK)
        return st;
    const char *spec = options && options->device ? options->device : cg_device_spec_from_env();
    st = cg_device_select(list, count, spec, &index);
    if (st != CG_OK) {
        free(list);
        return st;
    }
    cg_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        free(list);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a context");
    }
    ctx->info = list[index];
    free(list);
    st = find_ids(ctx->info.platform_index, ctx->info.device_index, &ctx->platform, &ctx->device);
    if (st != CG_OK)
        goto fail;
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform,
                                     0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        st = cg__cl_fail(err, "clCreateContext");
        goto fail;
    }
    ctx->profiling = options && options->profiling;
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device,
                                      ctx->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) {
        st = cg__cl_fail(err, "clCreateCommandQueue");
        goto fail;
    }
    base_options(&ctx->info, ctx->base_options, sizeof ctx->base_options);
    ctx->default_local = cg__builtin_local(&ctx->info);
    const char *gemm = getenv("CLGRAPH_GEMM");
    if (gemm && *gemm && strcmp(gemm, "own") != 0 && strcmp(gemm, "clblast") != 0) {
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "CLGRAPH_GEMM=%.40s: use 'own' (clgraph's GEMM kernels) or 'clblast', or "
                       "unset it (own on CPUs, CLBlast on GPUs)",
                       gemm);
        goto fail;
    }
    ctx->gemm_own = gemm && *gemm ? strcmp(gemm, "own") == 0 : ctx->info.type == CG_DEVICE_CPU;
    ctx->gemm_transpose_max = (size_t)64 << 20;
    ctx->gemm_rows_first_max = (size_t)1 << 20;
    cl_uint align_bits = 0;
    clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits,
                    NULL);
    ctx->align = align_bits >= 32 ? align_bits / 8 : 4;
    ctx->cache_dir = cache_dir_from(options);
    const char *autotune = getenv("CLGRAPH_AUTOTUNE");
    if (autotune && *autotune && strcmp(autotune, "0") != 0 && strcmp(autotune, "1") != 0) {
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "CLGRAPH_AUTOTUNE=%.40s: use 0 (never time the convolution algorithms "
                       "during a run) or 1 (time them the first time a shape runs), or unset it",
                       autotune);
        goto fail;
    }
    const char *replay = getenv("CLGRAPH_REPLAY");
    if (replay && *replay && strcmp(replay, "0") != 0 && strcmp(replay, "1") != 0) {
        st = cg__error(CG_ERR_INVALID_ARGUMENT,
                       "CLGRAPH_REPLAY=%.40s: use 0 (launch every kernel of every step) or 1 "
                       "(record a training step and replay it where the device offers command "
                       "buffers), or unset it (on for GPUs)",
                       replay);
        goto fail;
    }
    ctx->autotune = ctx->cache_dir && (autotune && *autotune ? autotune[0] == '1'
                                                             : options && options->autotune);
    cg__tuning_load(ctx);
    static const uint32_t zeros[4] = {0};
    st = cg__buffer_create(ctx, sizeof zeros, &ctx->zero_words);
    if (st == CG_OK)
        st = cg__buffer_write(ctx, ctx->zero_words, zeros, sizeof zeros);
    if (st != CG_OK)
        goto fail;
    cg__replay_setup(ctx);
    *out = ctx;
    return CG_OK;
fail:
    cg__error_prefix(st, "opening device %d:%d (%s)", ctx->info.platform_index,
                     ctx->info.device_index, ctx->info.name);
    cg_context_destroy(ctx);
    return st;
}

void cg_context_destroy(cg_context *ctx) {
    if (!ctx)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    for (size_t i = 0; i < ctx->program_count; i++) {
        clReleaseProgram(ctx->programs[i].program);
        free(ctx->programs[i].file);
        free(ctx->programs[i].defines);
    }
    free(ctx->programs);
    for (size_t i = 0; i < ctx->kernel_cap; i++)
        if (ctx->kernels[i].kernel) {
            clReleaseKernel(ctx->kernels[i].kernel);
            free(ctx->kernels[i].key);
        }
    free(ctx->kernels);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    cg__buffer_release(ctx->gemm_tmp);
    cg__buffer_release(ctx->zero_words);
    free(ctx->cb_api);
    free(ctx->cache_dir);
    free(ctx);
}

const cg_device_info *cg_context_device(const cg_context *ctx) {
    return &ctx->info;
}

const char *cg_context_cache_dir(const cg_context *ctx) {
    return ctx->cache_dir;
}

cg_status cg_context_finish(cg_context *ctx) {
    cg_status st = cg__replay_interrupt(ctx);
    if (st != CG_OK)
        return st;
    CG__CL_CHECK(clFinish(ctx->queue), "clFinish");
    return CG_OK;
}

cg_status cg__buffer_create(cg_context *ctx, size_t bytes, cl_mem *out) {
    cl_int err;
    *out = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clCreateBuffer of %zu bytes", bytes);
        return cg__cl_fail(err, what);
    }
    return CG_OK;
}

cg_status cg__buffer_view(cg_context *ctx, cl_mem buf, size_t offset, size_t bytes, cl_mem *out) {
    if (offset % ctx->align != 0)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "a view at byte %zu is not aligned to the device's %zu bytes", offset,
                         ctx->align);
    cl_buffer_region region = {offset, bytes ? bytes : 4};
    cl_int err;
    *out = clCreateSubBuffer(buf, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (err != CL_SUCCESS) {
        char what[128];
        snprintf(what, sizeof what, "clCreateSubBuffer at %zu of %zu bytes", offset, bytes);
        return cg__cl_fail(err, what);
    }
    return CG_OK;
}

cg_status cg__fill(cg_context *ctx, cl_mem buf, float value, size_t n) {
    const cg__karg args[] = {CG_KMEM(buf), CG_KF32(value), CG_KU32(n)};
    return cg__kernel_run1d(ctx, "core.cl", "fill_f32", n, 0, args, 3);
}

cg_status cg__add_chunk_sums(cg_context *ctx, cl_mem y, cl_mem part, uint32_t part_off,
                            uint32_t chunks, size_t n) {
    const cg__karg args[] = {CG_KMEM(y), CG_KMEM(part), CG_KU32(part_off), CG_KU32(chunks),
                             CG_KU32(n)};
    cg__profile_bytes(ctx, 4.0 * ((double)chunks + 2) * (double)n); /* part is often scratch */
    return cg__kernel_run1d(ctx, "core.cl", "add_chunk_sums", n, 0, args, 5);
}

cg_status cg__buffer_write(cg_context *ctx, cl_mem buf, const void *src, size_t bytes) {
    cg_status st = cg__replay_interrupt(ctx);
    if (st != CG_OK)
        return st;
    CG__CL_CHECK(clEnqueueWriteBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, src, 0, NULL, NULL),
                 "clEnqueueWriteBuffer");
    return CG_OK;
}

cg_status cg__buffer_read(cg_context *ctx, cl_mem buf, void *dst, size_t bytes) {
    cg_status st = cg__replay_interrupt(ctx);
    if (st != CG_OK)
        return st;
    CG__CL_CHECK(clEnqueueReadBuffer(ctx->queue, buf, CL_TRUE, 0, bytes, dst, 0, NULL, NULL),
                 "clEnqueueReadBuffer");
    return CG_OK;
}

cg_status cg__buffer_copy(cg_context *ctx, cl_mem dst, size_t dst_off, cl_mem src, size_t src_off,
                          size_t bytes) {
    if (bytes == 0)
        return CG_OK;
    cg_status st = cg__replay_interrupt(ctx);
    if (st != CG_OK)
        return st;
    CG__CL_CHECK(clEnqueueCopyBuffer(ctx->queue, src, dst, src_off, dst_off, bytes, 0, NULL, NULL),
                 "clEnqueueCopyBuffer");
    return CG_OK;
}

cg_status cg__buffer_fill16(cg_context *ctx, cl_mem buf, const void *pattern) {
    cg_status st = cg__replay_interrupt(ctx);
    if (st != CG_OK)
        return st;
    CG__CL_CHECK(clEnqueueFillBuffer(ctx->queue, buf, pattern, 16, 0, 16, 0, NULL, NULL),
                 "clEnqueueFillBuffer");
    return CG_OK;
}

cl_mem cg__zero_words(cg_context *ctx) {
    return ctx->zero_words;
}

void cg__buffer_release(cl_mem buf) {
    if (buf)
        clReleaseMemObject(buf);
}
