/* Shared by the fuzz targets: each input is written to a file of its own (the readers under test
 * take paths, as users give them), in a folder made once per process and removed at its exit. */
#ifndef CG_FUZZ_COMMON_H
#define CG_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[256];

static void fuzz_remove_dir(void) {
    DIR *d = opendir(fuzz_dir);
    struct dirent *entry;
    char path[600];
    while (d && (entry = readdir(d)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", fuzz_dir, entry->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(fuzz_dir);
}

static inline const char *fuzz_path(const char *name) {
    static char path[320];
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/clgraph-fuzz-XXXXXX");
        if (!mkdtemp(fuzz_dir))
            abort();
        atexit(fuzz_remove_dir);
    }
    snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
    return path;
}

/* Writes data to the named file and returns its path. */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
    const char *path = fuzz_path(name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return path;
}

#endif
