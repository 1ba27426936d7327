/* Small host utilities: whole-file reads, folder creation, a monotonic clock, string helpers. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/common.h"

FILE *cg__fopen_regular(const char *path) {
    /* Without O_NONBLOCK, opening a FIFO for reading waits for a writer: forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    return f;
}

cg_status cg__read_file(const char *path, char **out, size_t *size) {
    *out = NULL;
    FILE *f = cg__fopen_regular(path);
    struct stat sb;
    if (!f && errno == EINVAL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return cg__error(CG_ERR_IO, "cannot read %s: it is a folder; name a file in it", path);
    if (!f)
        return cg__error(CG_ERR_IO, "cannot open %s: %s", path,
                         errno == EINVAL ? "not a regular file" : strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s", path);
    }
    for (;;) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        char *grown = realloc(buf, 2 * cap + 1);
        if (!grown) {
            free(buf);
            fclose(f);
            return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory to read %s (%zu bytes so far)",
                             path, len);
        }
        buf = grown;
        cap *= 2;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return cg__error(CG_ERR_IO, "error while reading %s", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (size)
        *size = len;
    return CG_OK;
}

cg_status cg__mkdir_p(const char *path) {
    char tmp[4096];
    if (strlen(path) >= sizeof tmp)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "folder path too long: %s", path);
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return cg__error(CG_ERR_IO, "cannot create folder %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return cg__error(CG_ERR_IO, "cannot create folder %s: %s", tmp, strerror(errno));
    return CG_OK;
}

double cg__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int cg__contains_nocase(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0)
        return 1;
    for (const char *h = haystack; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] &&
               tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

void cg__copy_str(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

void cg__sweep_name(char *out, size_t cap, const char *variant, const char *value) {
    bool named = variant && *variant;
    snprintf(out, cap, "%s%s%s", named ? variant : "", named ? "_" : "", value);
}

size_t cg__edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return la > lb ? la : lb;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *cg__closest(const char *word, const char *const *candidates, size_t count) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < count; i++) {
        size_t d = cg__edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* Suggest only when at most a third of the word (and at least one letter) is off. */
    size_t limit = strlen(word) / 3 + 1;
    return best_d <= limit ? best : NULL;
}

void cg__file_part(char *out, size_t cap, const char *name) {
    size_t n = 0;
    for (; *name && n + 1 < cap && n < 64; name++) {
        char c = *name;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || (c == '.' && n > 0);
        out[n++] = ok ? c : '_';
    }
    if (n == 0 && cap > 1)
        out[n++] = '_';
    if (cap > 0)
        out[n] = '\0';
}
