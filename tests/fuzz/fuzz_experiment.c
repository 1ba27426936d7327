/* The experiment loader: YAML, variants, sweeps and --set. The input is an experiment file;
 * its lines "#set KEY=VALUE" (YAML comments) are also given as --set options, and each of its
 * first variants is loaded too. Every input must load or fail with a message, never crash. */
#include "clgraph/clgraph.h"
#include "exp/experiment.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write("exp.yaml", data, size);
    char *text = malloc(size + 1), *sets[8];
    int n_sets = 0;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text; line && n_sets < 8;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "#set ", 5))
            sets[n_sets++] = line + 5;
        line = next;
    }
    static cg_experiment e, v;
    if (cg_experiment_load(path, NULL, (const char *const *)sets, n_sets, &e) == CG_OK) {
        for (int i = 0; i < e.n_variants && i < 3; i++)
            cg_experiment_load(path, e.variants[i], (const char *const *)sets, n_sets, &v);
    }
    free(text);
    return 0;
}
