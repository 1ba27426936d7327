/* `clgraph validate EXPERIMENT.yaml`: reads the descriptor and each of its variants, checks every
 * key, builds the graph on the data's shapes (no device needed) and prints the layer table with
 * the parameter total. Exit status 2 for an invalid file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "exp/experiment.h"
#include "pipelines/pipeline.h"

static void print_table(const cg_exp_graph *eg) {
    printf("  %-28s %-18s %-22s %10s\n", "node", "layer", "output", "parameters");
    size_t total = 0;
    for (int i = 0; i < cg_graph_node_count(eg->graph); i++) {
        cg_node_info n = cg_graph_node_at(eg->graph, i);
        char shape[64], params[32] = "";
        cg_shape_str(&n.out, shape, sizeof shape);
        if (n.new_params)
            snprintf(params, sizeof params, "%zu", n.new_params);
        printf("  %-28s %-18s %-22s %10s\n", n.name, n.op, shape, params);
        total += n.new_params;
    }
    printf("  parameters: %zu in %d tensors\n", total, cg_graph_param_count(eg->graph));
}

/* Checks one stage against the data's splits: its training graph, each evaluation split's
 * graph and the labels; prints its table when `table`. Returns a CLI exit status. */
static int check_stage(const cg_experiment *e, int k, cg_dataset *d, bool table) {
    const cg_exp_stage *sg = &e->stages[k];
    cg_exp_graph eg = {0};
    if (cg_experiment_check_stage(e, k, d, &eg) != CG_OK) {
        fprintf(stderr, "clgraph validate: %s\n", cg_error_message());
        return CLI_USAGE;
    }
    const cg_split *split = cg_dataset_find(d, sg->split);
    if (table) {
        if (sg->has_until)
            printf("  stage '%s': until %s >= %g (at most %d updates) on split '%s', all %d as "
                   "one batch:",
                   sg->name, sg->until_value, (double)sg->until_threshold, sg->until_max_steps,
                   split->name, cg_split_count(split));
        else
            printf("  stage '%s': %d epoch%s on split '%s', batch %d:", sg->name, sg->epochs,
                   sg->epochs == 1 ? "" : "s", split->name, cg_exp_stage_batch(e, k));
        for (int a = 0; a < split->n_arrays; a++) {
            char s[64];
            cg_shape_str(&split->arrays[a].shape, s, sizeof s);
            printf(" %s %s", split->arrays[a].name, s);
        }
        printf("\n");
        printf("\n");
        print_table(&eg);
        for (int i = 0; i < sg->n_losses; i++)
            printf("  loss %s: %s(%s%s%s) x %g, %s\n", sg->losses[i].node.name,
                   sg->losses[i].node.op.op->name, sg->losses[i].node.inputs[0],
                   sg->losses[i].node.n_in > 1 ? ", " : "",
                   sg->losses[i].node.n_in > 1 ? sg->losses[i].node.inputs[1] : "",
                   (double)sg->losses[i].weight,
                   sg->losses[i].reduction == CG_REDUCE_SUM ? "sum" : "mean");
        for (int i = 0; i < sg->n_metrics; i++)
            printf("  metric %s: %s(%s%s%s)%s%s\n", sg->metrics[i].name,
                   sg->metrics[i].op.op->name, sg->metrics[i].inputs[0],
                   sg->metrics[i].n_in > 1 ? ", " : "",
                   sg->metrics[i].n_in > 1 ? sg->metrics[i].inputs[1] : "",
                   sg->metrics[i].mask[0] ? " where " : "", sg->metrics[i].mask);
        for (int i = 0; i < sg->n_freeze; i++)
            printf("  frozen: %s\n", e->modules[sg->freeze[i]].name);
    }
    cg_exp_graph_free(&eg);
    return CLI_OK;
}

/* Loads (base or a variant), builds a few samples of data for the shapes, checks every stage;
 * prints the tables when `table`. Returns a CLI exit status. */
static int check(const char *file, const char *variant, const char *const *sets, int n_sets,
                 bool table, cg_experiment *e) {
    cg_status st = cg_experiment_load(file, variant, sets, n_sets, e);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph validate: %s\n", cg_error_message());
        return CLI_USAGE;
    }
    cg_data_config small = e->data.data;
    small.n_train = small.n_train > 0 && small.n_train < 64 ? small.n_train : 64;
    small.n_test = 16;
    cg_dataset d;
    st = cg_data_generate(e->data.pipeline, &small, &d);
    if (st != CG_OK) {
        const char *m = cg_error_message();
        if (!strncmp(m, file, strlen(file))) /* it says where already */
            fprintf(stderr, "clgraph validate: %s\n", m);
        else
            fprintf(stderr, "clgraph validate: %s: the data: %s\n", file, m);
        return CLI_USAGE;
    }
    if (table)
        printf("%s: '%s', pipeline %s, seed %llu, %d repeat%s, batch %d\n  data: %s\n", file,
               e->data.name, e->data.pipeline, (unsigned long long)e->data.data.seed, e->repeats,
               e->repeats == 1 ? "" : "s", e->batch, d.source);
    int rc = CLI_OK;
    for (int k = 0; rc == CLI_OK && k < e->n_stages; k++)
        rc = check_stage(e, k, &d, table);
    cg_dataset_free(&d);
    return rc;
}

int cmd_validate(int argc, char **argv) {
    const char *pos[1], *sets[32];
    size_t n_pos = 0;
    int n_sets = 0;
    bool help = false;
    /* --set may repeat: collect them before the shared parser sees the rest. */
    char *rest[256];
    int n_rest = 0;
    if (!cli_take_sets("validate", argc < 256 ? argc : 256, argv, sets, 32, &n_sets, rest, &n_rest))
        return CLI_USAGE;
    const cli_option options[] = {
        {"--set", "KEY=VALUE", "override a key, e.g. train.epochs=3 (repeatable)", NULL, NULL},
    };
    int rc = cli_parse("validate", "EXPERIMENT.yaml [--set KEY=VALUE]...",
                       "Checks an experiment file: every key and type, every shape (on the data's "
                       "real shapes),\nand every variant. Prints the layer table and the "
                       "parameter total. Exit status 2 when invalid.",
                       n_rest, rest, options, CG__ARRAY_LEN(options), pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if ((rc = cli_one_experiment("validate", n_pos)) != CLI_OK)
        return rc;
    static cg_experiment e, v;
    rc = check(pos[0], NULL, sets, n_sets, true, &e);
    for (int i = 0; rc == CLI_OK && i < e.n_variants; i++) {
        rc = check(pos[0], e.variants[i], sets, n_sets, false, &v);
        if (rc == CLI_OK)
            printf("  variant %s: valid\n", e.variants[i]);
    }
    if (rc == CLI_OK)
        printf("valid\n");
    return rc;
}
