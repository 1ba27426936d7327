/* The tuning file: what `clgraph tune` (or a run's autotune) measured best on one device and
 * driver, next to the kernel cache as tuning-<key>.txt, where key is a digest of the platform,
 * device, device version and driver. It is plain text:
 *
 *     clgraph tuning 2
 *     device <name>
 *     driver <driver version>
 *     kernels <digest>                   the kernels the conv2d choices were measured with
 *     local_1d 256                       work-group size of the 1-D element-wise launches
 *     im2col_chunk 0                     columns per im2col work-item, 0 for a whole row
 *     conv2d N C H W O KH KW SH SW PH PW FORWARD BACKWARD
 *
 *     gemm TA TB M N K KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD
 *     gemm_default KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD
 *
 * where FORWARD and BACKWARD are each direct or im2col: the algorithm of that pass of a conv2d
 * layer of that shape (they are independent: each pass makes what it needs), or auto where a run
 * measured the other pass only (autotune, cg__tuning_remember_conv; a file without the
 * local_1d and im2col_chunk lines that `clgraph tune` always writes holds only such lines); a
 * gemm line gives CLBlast's direct GEMM kernel the parameters that ran a GEMM of that shape
 * fastest.
 *
 * The conv2d lines hold only for the kernels they were measured with: where the kernels line
 * is missing or names other kernels (a clgraph whose conv.cl, gemm.cl or common.cl changed), they
 * are set aside, and autotune measures those shapes again (the note says how many).
 *
 * Any line that does not parse, GEMM parameters this device cannot run (cg__gemm_params_fit),
 * or a device or driver that is not this one, makes the whole file ignored: the context keeps
 * its safe defaults and says why in its tuning note. A GEMM choice that passes these checks is
 * still tried once against CLBlast's generic parameters before it stands (blas.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/device_internal.h"

#define HEADER "clgraph tuning 2"
/* Files of version 1 chose conv2d algorithms against the direct kernels before their vector
 * rewrite: their other lines still hold; their conv2d lines, with no kernels line before them,
 * are set aside. */
#define HEADER_V1 "clgraph tuning 1"

static void hex16(const uint8_t *d, char out[17]) {
    for (int k = 0; k < 8; k++)
        snprintf(out + 2 * k, 3, "%02x", d[k]);
}

void cg__tuning_kernels(char out[17]) {
    static const char *const files[] = {"common.cl", "conv.cl", "gemm.cl"};
    cg__sha256 h;
    uint8_t d[32];
    cg__sha256_init(&h);
    for (size_t f = 0; f < CG__ARRAY_LEN(files); f++)
        for (size_t i = 0; i < cg__kernel_source_count; i++)
            if (strcmp(cg__kernel_sources[i].name, files[f]) == 0)
                cg__sha256_update(&h, cg__kernel_sources[i].text, cg__kernel_sources[i].size);
    cg__sha256_final(&h, d);
    hex16(d, out);
}

static void tuning_key(const cg_context *ctx, char out[17]) {
    cg__sha256 h;
    uint8_t d[32];
    const cg_device_info *i = &ctx->info;
    const char *parts[] = {i->platform_name, i->name, i->device_version, i->driver_version};
    cg__sha256_init(&h);
    for (size_t k = 0; k < CG__ARRAY_LEN(parts); k++)
        cg__sha256_update(&h, parts[k], strlen(parts[k]) + 1);
    cg__sha256_final(&h, d);
    hex16(d, out);
}

bool cg__tuning_path(const cg_context *ctx, char *path, size_t cap) {
    if (!ctx->cache_dir) return false;
    char key[17];
    tuning_key(ctx, key);
    snprintf(path, cap, "%s/tuning-%s.txt", ctx->cache_dir, key);
    return true;
}

const char *cg__conv_algo_name(int algo) {
    return algo == CG_CONV_DIRECT ? "direct" : algo == CG_CONV_IM2COL ? "im2col" : "auto";
}

/* The constraints CLBlast's direct GEMM kernel puts on its parameters. */
bool cg__gemm_params_valid(const size_t *q) {
    size_t kwid = q[0], mdimad = q[1], mdimcd = q[2], ndimbd = q[3], ndimcd = q[4], pada = q[5],
           padb = q[6], vwmd = q[7], vwnd = q[8], wgd = q[9];
    if (!kwid || !mdimad || !mdimcd || !ndimbd || !ndimcd || !vwmd || !vwnd || !wgd ||
        pada > 1 || padb > 1 || wgd > 256)
        return false;
    return wgd % kwid == 0 && wgd % (mdimcd * vwmd) == 0 && wgd % (ndimcd * vwnd) == 0 &&
           wgd % (mdimad * vwmd) == 0 && wgd % (ndimbd * vwnd) == 0 &&
           (mdimcd * ndimcd) % mdimad == 0 && (mdimcd * ndimcd) % ndimbd == 0 &&
           wgd % ((mdimcd * ndimcd) / mdimad) == 0 && wgd % ((mdimcd * ndimcd) / ndimbd) == 0;
}

bool cg__gemm_params_fit(const cg_device_info *d, const size_t *q, char *why, size_t cap) {
    size_t kwid = q[0], mdimcd = q[2], ndimcd = q[4], vwmd = q[7], vwnd = q[8], wgd = q[9];
    size_t items = mdimcd * ndimcd, tile = (wgd / mdimcd) * (wgd / ndimcd);
    size_t local = sizeof(float) * (wgd * (wgd + q[5]) + wgd * (wgd + q[6]));
    if (items > d->max_work_group_size)
        snprintf(why, cap, "work-groups of %zu (MDIMCD x NDIMCD), more than the device's %llu",
                 items, (unsigned long long)d->max_work_group_size);
    else if (local > d->local_mem)
        snprintf(why, cap, "%zu bytes of local memory (WGD %zu), more than the device's %llu",
                 local, wgd, (unsigned long long)d->local_mem);
    else if (kwid > CG__GEMM_MAX_KWID)
        snprintf(why, cap, "KWID %zu, an unrolling deeper than %d", kwid, CG__GEMM_MAX_KWID);
    else if (vwmd > 8 || vwnd > 8 || (vwmd & (vwmd - 1)) || (vwnd & (vwnd - 1)))
        snprintf(why, cap, "vector widths %zu and %zu, not 1, 2, 4 or 8", vwmd, vwnd);
    else if (tile > CG__GEMM_MAX_TILE)
        snprintf(why, cap, "a tile of %zu floats per work-item ((WGD/MDIMCD) x (WGD/NDIMCD)), "
                 "more than %d", tile, CG__GEMM_MAX_TILE);
    else
        return true;
    return false;
}

/* CG_CONV_* of a word, -1 for none; auto: not measured yet (a run measured the other pass). */
static int algo_of(const char *word) {
    return strcmp(word, "direct") == 0   ? CG_CONV_DIRECT
           : strcmp(word, "im2col") == 0 ? CG_CONV_IM2COL
           : strcmp(word, "auto") == 0   ? CG_CONV_AUTO
                                         : -1;
}

/* Reads n whole numbers separated by spaces; the text after them, or NULL when there are fewer
 * or one is not a number. */
static const char *read_numbers(const char *s, unsigned long *out, int n) {
    for (int i = 0; i < n; i++) {
        while (*s == ' ')
            s++;
        if (*s < '0' || *s > '9') return NULL;
        char *end;
        out[i] = strtoul(s, &end, 10);
        s = end;
    }
    return s;
}

/* Whether only spaces are left. */
static bool at_end(const char *s) {
    return s && s[strspn(s, " ")] == '\0';
}

/* A device or driver line: true when it names this context's. */
static bool same_as(const char *value, const char *mine, const char *what, char *why,
                    size_t cap) {
    if (strcmp(value, mine) == 0) return true;
    snprintf(why, cap, "made for another %s (%.100s)", what, value);
    return false;
}

static bool copy_u32(const unsigned long *v, uint32_t *out, int n) {
    for (int i = 0; i < n; i++) {
        if (v[i] > UINT32_MAX) return false;
        out[i] = (uint32_t)v[i];
    }
    return true;
}

/* Whether a line's GEMM parameters suit this device; why names the line when not. */
static bool gemm_fits(const cg_device_info *d, const char *line, const size_t *q, char *why,
                      size_t cap) {
    char reason[160];
    if (cg__gemm_params_fit(d, q, reason, sizeof reason)) return true;
    snprintf(why, cap, "line '%.60s' asks for %.120s", line, reason);
    return false;
}

/* Parses one line into t; false when it is not a tuning line. */
static bool parse_line(const cg_device_info *d, char *line, cg__tuning *t, char *why,
                       size_t cap) {
    line[strcspn(line, "\r\n")] = '\0';
    unsigned long v[15];
    const char *rest;
    char word[16], word2[16], extra;
    if (strncmp(line, "device ", 7) == 0)
        return same_as(line + 7, d->name, "device", why, cap);
    if (strncmp(line, "driver ", 7) == 0)
        return same_as(line + 7, d->driver_version, "driver", why, cap);
    if (strncmp(line, "local_1d ", 9) == 0 && at_end(read_numbers(line + 9, v, 1)) && v[0] >= 1 &&
        v[0] <= d->max_work_group_size) {
        t->local_1d = (size_t)v[0];
        return true;
    }
    if (strncmp(line, "im2col_chunk ", 13) == 0 && at_end(read_numbers(line + 13, v, 1)) &&
        v[0] <= 4096) {
        t->im2col_chunk = (int)v[0];
        t->has_chunk = true;
        return true;
    }
    cg__conv_tune c;
    if (strncmp(line, "conv2d ", 7) == 0 && t->n_conv < CG__MAX_TUNED_CONV &&
        (rest = read_numbers(line + 7, v, 11)) && copy_u32(v, c.key, 11) &&
        sscanf(rest, "%15s %15s %c", word, word2, &extra) == 2 &&
        (c.algo[0] = algo_of(word)) >= 0 && (c.algo[1] = algo_of(word2)) >= 0) {
        t->conv[t->n_conv++] = c;
        return true;
    }
    size_t q[CG__GEMM_PARAMS];
    if (strncmp(line, "gemm_default ", 13) == 0 &&
        at_end(read_numbers(line + 13, v, CG__GEMM_PARAMS))) {
        for (int k = 0; k < CG__GEMM_PARAMS; k++)
            q[k] = (size_t)v[k];
        if (cg__gemm_params_valid(q)) {
            if (!gemm_fits(d, line, q, why, cap)) return false;
            memcpy(t->gemm_default, q, sizeof t->gemm_default);
            t->has_gemm_default = true;
            return true;
        }
    }
    cg__gemm_tune g = {0};
    if (strncmp(line, "gemm ", 5) == 0 && t->n_gemm < CG__MAX_TUNED_GEMM &&
        at_end(read_numbers(line + 5, v, 5 + CG__GEMM_PARAMS)) && copy_u32(v, g.key, 5)) {
        for (int k = 0; k < CG__GEMM_PARAMS; k++)
            g.params[k] = (size_t)v[5 + k];
        if (cg__gemm_params_valid(g.params)) {
            if (!gemm_fits(d, line, g.params, why, cap)) return false;
            t->gemm[t->n_gemm++] = g;
            return true;
        }
    }
    snprintf(why, cap, "line '%.60s' is not a tuning line", line);
    return false;
}

/* Whether text (len bytes) begins with the line `line`. */
static bool starts_with_line(const char *text, size_t len, const char *line) {
    size_t n = strlen(line);
    return len >= n && strncmp(text, line, n) == 0 &&
           (len == n || text[n] == '\n' || text[n] == '\r');
}

bool cg__tuning_parse(const cg_device_info *d, const char *text, size_t len, cg__tuning *t,
                      char *why, size_t cap) {
    memset(t, 0, sizeof *t);
    if (memchr(text, '\0', len)) {
        snprintf(why, cap, "it holds a NUL byte (not a text file)");
        return false;
    }
    bool v1 = !starts_with_line(text, len, HEADER) && starts_with_line(text, len, HEADER_V1);
    bool ok = v1 || starts_with_line(text, len, HEADER);
    if (!ok)
        snprintf(why, cap, "no '%s' header", HEADER);
    const char *nl = ok ? memchr(text, '\n', len) : NULL;
    size_t at = nl ? (size_t)(nl - text) : len;
    char mine[17];
    cg__tuning_kernels(mine);
    bool same_kernels = false;
    while (ok && at < len) {
        at++; /* past the newline */
        size_t n = 0;
        while (at + n < len && text[at + n] != '\n')
            n++;
        char line[512];
        if (n >= sizeof line) {
            snprintf(why, cap, "a line of %zu characters (line '%.40s...')", n, text + at);
            return false;
        }
        memcpy(line, text + at, n);
        line[n] = '\0';
        line[strcspn(line, "\r")] = '\0';
        /* conv2d lines after a kernels line other than this build's, or with none before
         * them, were measured against other kernels */
        bool kernels_line = strncmp(line, "kernels ", 8) == 0;
        if (kernels_line)
            same_kernels = strcmp(line + 8, mine) == 0;
        bool stale = !same_kernels && strncmp(line, "conv2d ", 7) == 0;
        if (stale)
            t->n_stale_conv++;
        ok = n == 0 || kernels_line || stale || parse_line(d, line, t, why, cap);
        at += n;
    }
    return ok;
}

/* Reads this device's file at path into t: CG_TUNING_LOADED (or _FROM_RUNS) when it applies,
 * else the state and, in why, the reason. */
static cg_tuning_state tuning_read(const cg_context *ctx, const char *path, cg__tuning *t,
                                   char *why, size_t cap) {
    memset(t, 0, sizeof *t);
    FILE *f = cg__fopen_regular(path);
    if (!f && errno == EINVAL) {
        snprintf(why, cap, "it is not a regular file");
        return CG_TUNING_IGNORED;
    }
    if (!f)
        return CG_TUNING_NONE_YET;
    /* A tuning file is a few kilobytes; more than 1 MiB is not one. */
    char *text = malloc(1 << 20);
    size_t len = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    bool whole = text && feof(f);
    fclose(f);
    bool ok = whole;
    if (!whole)
        snprintf(why, cap, "%s", text ? "it is larger than 1 MiB" : "no memory to read it");
    if (ok)
        ok = cg__tuning_parse(&ctx->info, text, len, t, why, cap);
    free(text);
    if (!ok) {
        memset(t, 0, sizeof *t);
        return CG_TUNING_IGNORED;
    }
    /* `clgraph tune` always writes both; a file without them holds only what runs measured. */
    return t->local_1d || t->has_chunk ? CG_TUNING_LOADED : CG_TUNING_FROM_RUNS;
}

static void loaded_note(cg__tuning *t, const char *path) {
    char stale[160] = "";
    if (t->n_stale_conv)
        snprintf(stale, sizeof stale,
                 "; %d convolution lines set aside, measured with other kernels than this "
                 "clgraph's",
                 t->n_stale_conv);
    if (t->state == CG_TUNING_FROM_RUNS)
        snprintf(t->note, sizeof t->note,
                 "%s (%d convolution shapes measured by runs%s; 'clgraph tune' measures the GEMMs "
                 "and work-group sizes too)",
                 path, t->n_conv, stale);
    else
        snprintf(t->note, sizeof t->note, "%s (%d convolution shapes, %d GEMM shapes%s)", path,
                 t->n_conv, t->n_gemm, stale);
}

void cg__tuning_load(cg_context *ctx) {
    cg__tuning *t = &ctx->tuning;
    memset(t, 0, sizeof *t);
    char path[4200], why[4000] = "";
    if (!cg__tuning_path(ctx, path, sizeof path)) {
        snprintf(t->note, sizeof t->note, "none (the kernel cache is off): defaults");
        t->state = CG_TUNING_CACHE_OFF;
        return;
    }
    t->state = tuning_read(ctx, path, t, why, sizeof why);
    if (t->state == CG_TUNING_NONE_YET) {
        snprintf(t->note, sizeof t->note, "none yet (%s; run 'clgraph tune'): defaults", path);
    } else if (t->state == CG_TUNING_IGNORED) {
        snprintf(t->note, sizeof t->note, "%s ignored, %s: defaults", path, why);
    } else {
        loaded_note(t, path);
        if (t->local_1d) ctx->default_local = t->local_1d;
    }
}

static void write_u32s(FILE *f, const uint32_t *v, int n) {
    for (int k = 0; k < n; k++)
        fprintf(f, " %u", v[k]);
}

static void write_sizes(FILE *f, const size_t *v, int n) {
    for (int k = 0; k < n; k++)
        fprintf(f, " %zu", v[k]);
}

/* Writes t as the file at path, through a temporary file of this process renamed over it (two
 * processes that write at once leave one whole file). */
static cg_status tuning_write(const cg_context *ctx, const char *path, const cg__tuning *t) {
    char tmp[4300];
    cg_status st = cg__mkdir_p(ctx->cache_dir);
    if (st != CG_OK) return st;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return cg__error(CG_ERR_IO, "cannot write %s", tmp);
    char kernels[17];
    cg__tuning_kernels(kernels);
    fprintf(f, "%s\ndevice %s\ndriver %s\nkernels %s\n", HEADER, ctx->info.name,
            ctx->info.driver_version, kernels);
    if (t->local_1d) fprintf(f, "local_1d %zu\n", t->local_1d);
    if (t->has_chunk) fprintf(f, "im2col_chunk %d\n", t->im2col_chunk);
    for (int i = 0; i < t->n_conv; i++) {
        fprintf(f, "conv2d");
        write_u32s(f, t->conv[i].key, 11);
        fprintf(f, " %s %s\n", cg__conv_algo_name(t->conv[i].algo[0]),
                cg__conv_algo_name(t->conv[i].algo[1]));
    }
    if (t->has_gemm_default) {
        fprintf(f, "gemm_default");
        write_sizes(f, t->gemm_default, CG__GEMM_PARAMS);
        fprintf(f, "\n");
    }
    for (int i = 0; i < t->n_gemm; i++) {
        fprintf(f, "gemm");
        write_u32s(f, t->gemm[i].key, 5);
        write_sizes(f, t->gemm[i].params, CG__GEMM_PARAMS);
        fprintf(f, "\n");
    }
    bool ok = fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return cg__error(CG_ERR_IO, "cannot write %s", path);
    }
    return CG_OK;
}

cg_status cg__tuning_save(cg_context *ctx, const cg__tuning *t) {
    char path[4200];
    if (!cg__tuning_path(ctx, path, sizeof path))
        return cg__error(CG_ERR_INVALID_ARGUMENT, "the kernel cache is off, so there is no place "
                                                  "for a tuning file; unset CLGRAPH_NO_CACHE");
    cg_status st = tuning_write(ctx, path, t);
    if (st == CG_OK) cg__tuning_load(ctx);
    return st;
}

/* Sets the algorithm of a shape's pass in t: its entry, or a new one (the other pass not
 * measured yet); false when t has no room for another. */
static bool set_conv(cg__tuning *t, const uint32_t key[11], int pass, int algo) {
    int i = 0;
    while (i < t->n_conv && memcmp(t->conv[i].key, key, sizeof t->conv[i].key) != 0)
        i++;
    if (i == t->n_conv) {
        if (t->n_conv == CG__MAX_TUNED_CONV) return false;
        memcpy(t->conv[i].key, key, sizeof t->conv[i].key);
        t->conv[i].algo[0] = t->conv[i].algo[1] = CG_CONV_AUTO;
        t->n_conv++;
    }
    t->conv[i].algo[pass] = algo;
    return true;
}

cg_status cg__tuning_remember_conv(cg_context *ctx, const uint32_t key[11], int pass, int algo) {
    cg__tuning *mine = &ctx->tuning;
    char path[4200], why[256];
    if (!set_conv(mine, key, pass, algo) || !cg__tuning_path(ctx, path, sizeof path) ||
        mine->state == CG_TUNING_IGNORED || mine->state == CG_TUNING_CACHE_OFF)
        return CG_OK; /* this process keeps the choice; the file stays as it is */
    /* The file as it is now (another process may have added to it), with this choice. */
    cg__tuning *disk = malloc(sizeof *disk);
    if (!disk) return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to update the tuning file");
    cg_tuning_state on_disk = tuning_read(ctx, path, disk, why, sizeof why);
    cg_status st = CG_OK;
    if (on_disk != CG_TUNING_IGNORED && set_conv(disk, key, pass, algo))
        st = tuning_write(ctx, path, disk);
    free(disk);
    if (st == CG_OK && mine->state == CG_TUNING_NONE_YET) mine->state = CG_TUNING_FROM_RUNS;
    if (st == CG_OK && mine->state == CG_TUNING_FROM_RUNS) loaded_note(mine, path);
    return st;
}

uint32_t cg__tuned_im2col_chunk(const cg_context *ctx, uint32_t wo) {
    int chunk = ctx->tuning.has_chunk             ? ctx->tuning.im2col_chunk
                : ctx->info.type == CG_DEVICE_CPU ? 0
                                                  : 1;
    if (ctx->tuning.force_chunk) chunk = ctx->tuning.force_chunk > 0 ? ctx->tuning.force_chunk : 0;
    return chunk == 0 || (uint32_t)chunk > wo ? wo : (uint32_t)chunk;
}

int cg__tuned_conv_algo(const cg_context *ctx, const uint32_t key[11], int pass) {
    if (ctx->tuning.force_conv)
        return ctx->tuning.force_conv;
    for (int i = 0; i < ctx->tuning.n_conv; i++)
        if (memcmp(ctx->tuning.conv[i].key, key, sizeof ctx->tuning.conv[i].key) == 0)
            return ctx->tuning.conv[i].algo[pass];
    return CG_CONV_AUTO;
}

void cg_context_reload_tuning(cg_context *ctx) {
    ctx->default_local = cg__builtin_local(&ctx->info);
    cg__tuning_load(ctx);
}

const char *cg_context_tuning(const cg_context *ctx) {
    return ctx->tuning.note;
}

cg_tuning_state cg_context_tuning_state(const cg_context *ctx) {
    return ctx->tuning.state;
}

int cg_context_tuning_fallbacks(const cg_context *ctx) {
    return ctx->tuning.n_fallbacks;
}
