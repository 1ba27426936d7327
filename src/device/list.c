/* Lists every OpenCL platform and device and chooses one from a user's spec. Choosing is a pure
 * function of the list, so it is tested on made-up lists as well as on the real one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/device_internal.h"

/* ocl-icd reports "no platform" as CL_PLATFORM_NOT_FOUND_KHR; older loaders as 0 platforms. */
#define CG__PLATFORM_NOT_FOUND_KHR (-1001)

static const char no_platform_hint[] =
    "no OpenCL platform found. Install an OpenCL driver: for CPUs PoCL (Debian/Ubuntu: "
    "sudo apt-get install pocl-opencl-icd; Fedora: sudo dnf install pocl), for GPUs your vendor's "
    "driver (NVIDIA's driver with its OpenCL library, AMD ROCm's rocm-opencl-runtime, Intel's "
    "intel-opencl-icd). Then `clinfo -l` should list it";

const char *cg_device_type_str(cg_device_type type) {
    switch (type) {
    case CG_DEVICE_CPU:
        return "CPU";
    case CG_DEVICE_GPU:
        return "GPU";
    case CG_DEVICE_ACCELERATOR:
        return "accelerator";
    case CG_DEVICE_OTHER:
        break;
    }
    return "other";
}

static void platform_str(cl_platform_id p, cl_platform_info what, char *dst, size_t cap) {
    if (clGetPlatformInfo(p, what, cap, dst, NULL) != CL_SUCCESS)
        cg__copy_str(dst, cap, "?");
    dst[cap - 1] = '\0';
}

static void device_str(cl_device_id d, cl_device_info what, char *dst, size_t cap) {
    if (clGetDeviceInfo(d, what, cap, dst, NULL) != CL_SUCCESS)
        cg__copy_str(dst, cap, "?");
    dst[cap - 1] = '\0';
}

static uint64_t device_u64(cl_device_id d, cl_device_info what) {
    cl_ulong v = 0;
    clGetDeviceInfo(d, what, sizeof v, &v, NULL);
    return v;
}

static uint32_t device_u32(cl_device_id d, cl_device_info what) {
    cl_uint v = 0;
    clGetDeviceInfo(d, what, sizeof v, &v, NULL);
    return v;
}

static bool has_extension(const char *extensions, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(extensions, name); p; p = strstr(p + 1, name))
        if ((p == extensions || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* Fills one description; exposed to the context code through cg__device_describe. */
void cg__device_describe(cl_platform_id p, cl_device_id d, int pi, int di, cg_device_info *info);
void cg__device_describe(cl_platform_id p, cl_device_id d, int pi, int di, cg_device_info *info) {
    memset(info, 0, sizeof *info);
    info->platform_index = pi;
    info->device_index = di;
    platform_str(p, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
    platform_str(p, CL_PLATFORM_VENDOR, info->platform_vendor, sizeof info->platform_vendor);
    platform_str(p, CL_PLATFORM_VERSION, info->platform_version, sizeof info->platform_version);
    device_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    device_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    device_str(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    device_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    device_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version,
               sizeof info->opencl_c_version);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    info->type = (t & CL_DEVICE_TYPE_GPU)           ? CG_DEVICE_GPU
                 : (t & CL_DEVICE_TYPE_CPU)         ? CG_DEVICE_CPU
                 : (t & CL_DEVICE_TYPE_ACCELERATOR) ? CG_DEVICE_ACCELERATOR
                                                    : CG_DEVICE_OTHER;
    info->compute_units = device_u32(d, CL_DEVICE_MAX_COMPUTE_UNITS);
    info->clock_mhz = device_u32(d, CL_DEVICE_MAX_CLOCK_FREQUENCY);
    info->global_mem = device_u64(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    info->local_mem = device_u64(d, CL_DEVICE_LOCAL_MEM_SIZE);
    info->max_alloc = device_u64(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->max_work_group_size = wg;
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d, CL_DEVICE_SINGLE_FP_CONFIG, sizeof fp, &fp, NULL);
    info->fma = (fp & CL_FP_FMA) != 0;

    size_t ext_size = 0;
    char *ext = NULL;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size) == CL_SUCCESS &&
        (ext = calloc(ext_size + 1, 1)) != NULL &&
        clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_size, ext, NULL) == CL_SUCCESS) {
        info->fp16 = has_extension(ext, "cl_khr_fp16");
        info->fp64 = has_extension(ext, "cl_khr_fp64");
        info->subgroups = has_extension(ext, "cl_khr_subgroups") ||
                          has_extension(ext, "cl_intel_subgroups");
        info->command_buffers = has_extension(ext, "cl_khr_command_buffer");
    }
    free(ext);
    /* OpenCL 3.0 devices may offer sub-groups as a core feature without the extension string. */
    if (!info->subgroups && strncmp(info->device_version, "OpenCL 3", 8) == 0) {
        cl_uint max_sub_groups = 0;
        if (clGetDeviceInfo(d, 0x104D /* CL_DEVICE_MAX_NUM_SUB_GROUPS */, sizeof max_sub_groups,
                            &max_sub_groups, NULL) == CL_SUCCESS)
            info->subgroups = max_sub_groups > 0;
    }
}

cg_status cg_device_list(cg_device_info **out, size_t *count) {
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == CG__PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0))
        return cg__error(CG_ERR_NO_PLATFORM, "%s", no_platform_hint);
    if (err != CL_SUCCESS)
        return cg__error(CG_ERR_NO_PLATFORM, "clGetPlatformIDs failed with %s; %s",
                         cg__cl_error_name(err), no_platform_hint);
    cl_platform_id *platforms = calloc(np, sizeof *platforms);
    if (!platforms)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %u platforms", np);
    clGetPlatformIDs(np, platforms, NULL);

    size_t cap = 8, n = 0;
    cg_device_info *list = malloc(cap * sizeof *list);
    if (!list) {
        free(platforms);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for the device list");
    }
    for (cl_uint pi = 0; pi < np; pi++) {
        cl_uint nd = 0;
        /* A platform without devices answers CL_DEVICE_NOT_FOUND; it simply adds none. */
        if (clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS ||
            nd == 0)
            continue;
        cl_device_id *devices = calloc(nd, sizeof *devices);
        if (!devices)
            break;
        clGetDeviceIDs(platforms[pi], CL_DEVICE_TYPE_ALL, nd, devices, NULL);
        for (cl_uint di = 0; di < nd; di++) {
            if (n == cap) {
                cg_device_info *grown = realloc(list, 2 * cap * sizeof *list);
                if (!grown)
                    break;
                list = grown;
                cap *= 2;
            }
            cg__device_describe(platforms[pi], devices[di], (int)pi, (int)di, &list[n++]);
        }
        free(devices);
    }
    if (n == 0) {
        /* Drivers are installed but start no device: say which, and what to check. */
        char names[512] = "";
        size_t used = 0;
        for (cl_uint pi = 0; pi < np && used < sizeof names; pi++) {
            char name[128] = "?";
            clGetPlatformInfo(platforms[pi], CL_PLATFORM_NAME, sizeof name - 1, name, NULL);
            used += (size_t)snprintf(names + used, sizeof names - used, "%s'%.100s'",
                                     pi ? ", " : "", name);
        }
        free(platforms);
        free(list);
        return cg__error(CG_ERR_NO_DEVICE,
                         "%u OpenCL platform(s) found (%s), but none lists a device: the driver "
                         "is installed but could not start one. Check what it needs (PoCL needs "
                         "a writable cache folder: HOME or XDG_CACHE_HOME, or set "
                         "POCL_CACHE_DIR), and run 'clinfo' to see what it reports",
                         np, names);
    }
    free(platforms);
    *out = list;
    *count = n;
    return CG_OK;
}

size_t cg_device_default(const cg_device_info *devices, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (devices[i].type == CG_DEVICE_GPU)
            return i;
    for (size_t i = 0; i < count; i++)
        if (devices[i].type == CG_DEVICE_CPU)
            return i;
    return 0;
}

const char *cg_device_spec_from_env(void) {
    const char *s = getenv("CLGRAPH_DEVICE");
    return s && *s ? s : NULL;
}

/* Parses a whole non-negative decimal number; false when the text is anything else. */
static bool parse_index(const char *s, const char *end, long *out) {
    if (s == end)
        return false;
    long v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9' || v > 1000000)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

static cg_status no_match(const cg_device_info *devices, size_t count, const char *spec,
                          const char *why) {
    char list[4096];
    size_t used = 0;
    for (size_t i = 0; i < count && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "\n  %d:%d  %s  (%s, %s, %s)",
                         devices[i].platform_index, devices[i].device_index, devices[i].name,
                         cg_device_type_str(devices[i].type), devices[i].vendor,
                         devices[i].platform_name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return cg__error(CG_ERR_NO_DEVICE,
                     "no OpenCL device matches '%s' (%s). Choose one by 'P:D', by type (gpu, "
                     "cpu, accelerator) or by part of its vendor, platform or device name. "
                     "Devices present:%s",
                     spec, why, list);
}

cg_status cg_device_select(const cg_device_info *devices, size_t count, const char *spec,
                           size_t *index) {
    if (count == 0)
        return cg__error(CG_ERR_NO_PLATFORM, "%s", no_platform_hint);
    if (!spec || !*spec) {
        *index = cg_device_default(devices, count);
        return CG_OK;
    }
    const char *end = spec + strlen(spec);
    const char *colon = strchr(spec, ':');
    long p, d;
    if (colon && parse_index(spec, colon, &p) && parse_index(colon + 1, end, &d)) {
        for (size_t i = 0; i < count; i++)
            if (devices[i].platform_index == p && devices[i].device_index == d) {
                *index = i;
                return CG_OK;
            }
        return no_match(devices, count, spec, "no device has that platform:device index");
    }
    if (parse_index(spec, end, &p)) {
        if ((size_t)p < count) {
            *index = (size_t)p;
            return CG_OK;
        }
        char why[96];
        snprintf(why, sizeof why, "there are only %zu devices, numbered from 0", count);
        return no_match(devices, count, spec, why);
    }
    static const struct {
        const char *word;
        cg_device_type type;
    } types[] = {{"gpu", CG_DEVICE_GPU}, {"cpu", CG_DEVICE_CPU},
                 {"accelerator", CG_DEVICE_ACCELERATOR}, {"acc", CG_DEVICE_ACCELERATOR}};
    for (size_t t = 0; t < CG__ARRAY_LEN(types); t++) {
        if (!cg__contains_nocase(spec, types[t].word) || strlen(spec) != strlen(types[t].word))
            continue;
        for (size_t i = 0; i < count; i++)
            if (devices[i].type == types[t].type) {
                *index = i;
                return CG_OK;
            }
        return no_match(devices, count, spec, "no device of that type");
    }
    for (size_t i = 0; i < count; i++) {
        const cg_device_info *x = &devices[i];
        if (cg__contains_nocase(x->name, spec) || cg__contains_nocase(x->vendor, spec) ||
            cg__contains_nocase(x->platform_name, spec) ||
            cg__contains_nocase(x->platform_vendor, spec)) {
            *index = i;
            return CG_OK;
        }
    }
    return no_match(devices, count, spec, "no vendor, platform or device name contains it");
}
