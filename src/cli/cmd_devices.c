/* `clgraph devices`: every platform and device with what matters for choosing one; the device
 * that would be used is marked. --json gives the same for scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "report/json.h"

static void print_size(char *out, size_t cap, uint64_t bytes) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < CG__ARRAY_LEN(units)) {
        v /= 1024;
        u++;
    }
    snprintf(out, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void print_json(const cg_device_info *list, size_t n, size_t chosen) {
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; all && i < n; i++) {
        const cg_device_info *d = &list[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(all, o);
        char index[32];
        snprintf(index, sizeof index, "%d:%d", d->platform_index, d->device_index);
        cJSON_AddStringToObject(o, "index", index);
        cJSON_AddNumberToObject(o, "platform", d->platform_index);
        cJSON_AddNumberToObject(o, "device", d->device_index);
        const struct {
            const char *key, *value;
        } strings[] = {{"platform_name", d->platform_name},
                       {"platform_vendor", d->platform_vendor},
                       {"platform_version", d->platform_version},
                       {"name", d->name},
                       {"vendor", d->vendor},
                       {"type", cg_device_type_str(d->type)},
                       {"device_version", d->device_version},
                       {"driver_version", d->driver_version},
                       {"opencl_c_version", d->opencl_c_version}};
        for (size_t s = 0; s < CG__ARRAY_LEN(strings); s++)
            cJSON_AddStringToObject(o, strings[s].key, strings[s].value);
        const struct {
            const char *key;
            double value;
        } numbers[] = {{"compute_units", d->compute_units},
                       {"clock_mhz", d->clock_mhz},
                       {"global_mem_bytes", (double)d->global_mem},
                       {"local_mem_bytes", (double)d->local_mem},
                       {"max_alloc_bytes", (double)d->max_alloc},
                       {"max_work_group_size", (double)d->max_work_group_size}};
        for (size_t k = 0; k < CG__ARRAY_LEN(numbers); k++)
            cJSON_AddNumberToObject(o, numbers[k].key, numbers[k].value);
        cJSON_AddBoolToObject(o, "fp16", d->fp16);
        cJSON_AddBoolToObject(o, "fp64", d->fp64);
        cJSON_AddBoolToObject(o, "fma", d->fma);
        cJSON_AddBoolToObject(o, "subgroups", d->subgroups);
        cJSON_AddBoolToObject(o, "command_buffers", d->command_buffers);
        cJSON_AddBoolToObject(o, "chosen", i == chosen);
    }
    if (all)
        cg_json_write(all, stdout);
    cJSON_Delete(all);
}

static void print_text(const cg_device_info *list, size_t n, size_t chosen, bool explicit) {
    int platform = -1;
    for (size_t i = 0; i < n; i++) {
        const cg_device_info *d = &list[i];
        if (d->platform_index != platform) {
            platform = d->platform_index;
            printf("%sPlatform %d: %s (%s), %s\n", i ? "\n" : "", platform, d->platform_name,
                   d->platform_vendor, d->platform_version);
        }
        char global[32], local[32], alloc[32];
        print_size(global, sizeof global, d->global_mem);
        print_size(local, sizeof local, d->local_mem);
        print_size(alloc, sizeof alloc, d->max_alloc);
        printf("  %s %d:%d  %s%s\n", i == chosen ? "*" : " ", d->platform_index, d->device_index,
               d->name, i == chosen ? (explicit ? "  (chosen)" : "  (default)") : "");
        printf("        type %s, vendor %s, %" PRIu32 " compute units at %" PRIu32 " MHz\n",
               cg_device_type_str(d->type), d->vendor, d->compute_units, d->clock_mhz);
        printf("        memory %s global, %s local, %s largest allocation, work-groups up to "
               "%" PRIu64 "\n",
               global, local, alloc, d->max_work_group_size);
        printf("        %s, fp16 %s, fp64 %s, sub-groups %s, fma %s, command buffers %s\n",
               d->opencl_c_version, d->fp16 ? "yes" : "no", d->fp64 ? "yes" : "no",
               d->subgroups ? "yes" : "no", d->fma ? "yes" : "no",
               d->command_buffers ? "yes" : "no");
        printf("        driver %s, %s\n", d->driver_version, d->device_version);
    }
}

int cmd_devices(int argc, char **argv) {
    const char *device = NULL;
    bool json = false, help = false;
    const cli_option options[] = {
        {"--device", "D", "mark the device this choice selects (as CLGRAPH_DEVICE)", &device,
         NULL},
        {"--json", NULL, "print the list as JSON", NULL, &json},
    };
    int rc = cli_parse("devices", "[--json] [--device D]",
                       "Lists every OpenCL platform and device. The device clgraph would use is "
                       "marked with '*':\nthe first GPU, else the first CPU, unless --device or "
                       "CLGRAPH_DEVICE chooses one\n('P:D', a type such as gpu or cpu, or part "
                       "of a vendor, platform or device name).",
                       argc, argv, options, CG__ARRAY_LEN(options), NULL, 0, NULL, &help);
    if (rc != CLI_OK || help)
        return rc;
    cg_device_info *list = NULL;
    size_t n = 0, chosen = 0;
    cg_status st = cg_device_list(&list, &n);
    if (st != CG_OK) {
        cli_report_error("listing OpenCL devices", st);
        return CLI_FAILED;
    }
    const char *spec = device ? device : cg_device_spec_from_env();
    st = cg_device_select(list, n, spec, &chosen);
    if (st != CG_OK) {
        cli_report_error("choosing a device", st);
        free(list);
        return CLI_FAILED;
    }
    if (json)
        print_json(list, n, chosen);
    else
        print_text(list, n, chosen, spec != NULL);
    free(list);
    return CLI_OK;
}
