/* Reading an experiment's name, pipeline, seed and data: the values land in the config, and
 * every kind of mistake fails with file:line:column, the value and a hint. Needs no device. */
#include "exp/data_section.h"
#include "harness.h"

static cg_status parse(const char *text, cg_exp_data *out) {
    cg_ydoc *doc = NULL;
    cg_status st = cg_ydoc_parse("exp/test.yaml", text, strlen(text), &doc);
    if (st == CG_OK)
        st = cg_exp_data_parse(doc, out);
    cg_ydoc_free(doc);
    return st;
}

static void expect_error(const char *text, const char *part) {
    cg_exp_data e;
    cg_status st = parse(text, &e);
    CHECK(st == CG_ERR_PARSE, "'%s' is refused (got %s)", text, cg_status_str(st));
    CHECK(strstr(cg_error_message(), part) != NULL, "message for '%s'\n    is: %s\n    lacks: %s",
          text, cg_error_message(), part);
}

int main(void) {
    cg_exp_data e;
    CHECK_OK(parse("name: demo\n"
                   "pipeline: siamese\n"
                   "seed: 42\n"
                   "data:\n"
                   "  dataset: fashion-mnist\n"
                   "  path: ../datasets/fm\n"
                   "  train: 500\n"
                   "  classes: [3, 8]\n"
                   "  mining: random\n"
                   "  negatives: other_or_non_neighbour\n"
                   "  triplets: true\n"
                   "  shifts: [-2, 2]\n",
                   &e));
    CHECK(strcmp(e.name, "demo") == 0 && strcmp(e.pipeline, "siamese") == 0, "name, pipeline");
    CHECK(e.data.seed == 42 && e.data.n_train == 500, "seed %llu, train %d",
          (unsigned long long)e.data.seed, e.data.n_train);
    CHECK(strcmp(e.data.dataset, "fashion-mnist") == 0, "dataset");
    CHECK(strcmp(e.data.path, "exp/../datasets/fm") == 0, "relative path from the file: %s",
          e.data.path);
    CHECK(e.data.n_classes == 2 && e.data.classes[0] == 3 && e.data.classes[1] == 8, "classes");
    CHECK(strcmp(e.data.mining, "random") == 0 && e.data.triplets, "mining, triplets");
    CHECK(e.data.n_shifts == 2 && e.data.shifts[0] == -2, "shifts");
    CHECK(e.data.n_test == 1000 && e.data.k_neighbours == 5, "defaults kept for unset keys");
    CHECK_OK(parse("pipeline: baseline\n", &e));
    CHECK(strcmp(e.name, "baseline") == 0 && e.data.pools_per_class == 5, "defaults");
    CHECK_OK(parse("pipeline: dae\ndata:\n  path: /abs/mnist\n", &e));
    CHECK(strcmp(e.data.path, "/abs/mnist") == 0, "absolute path kept");

    expect_error("pipeline: baseline\ndata: [\n", "exp/test.yaml:3:1: YAML syntax error");
    expect_error("pipeline: baseline\nseed: &s 3\ndata:\n  train: *s\n",
                 "exp/test.yaml:4:10: YAML aliases");
    expect_error("", "this file holds nothing");
    expect_error("- baseline\n", "an experiment is a mapping");
    expect_error("name: x\n", "exp/test.yaml:1:1: the experiment has no 'pipeline:'");
    expect_error("pipeline: baselin\n",
                 "exp/test.yaml:1:11: unknown pipeline 'baselin' (did you mean 'baseline'?)");
    expect_error("pipeline: baseline\nepoch: 3\n",
                 "exp/test.yaml:2:1: unknown key 'epoch' in the experiment");
    expect_error("pipeline: baseline\ndata:\n  pools_per_clas: 4\n",
                 "exp/test.yaml:3:3: unknown key 'pools_per_clas' in data — did you mean "
                 "'pools_per_class'?");
    expect_error("pipeline: baseline\ndata:\n  train: many\n",
                 "exp/test.yaml:3:10: 'train' must be a whole number, not 'many'");
    expect_error("pipeline: baseline\ndata:\n  train: \"5\"\n", "'train' must be a whole number");
    expect_error("pipeline: baseline\ndata:\n  train: 0\n",
                 "'train' is 0; it must be between 1 and 10000000");
    expect_error("pipeline: siamese\ndata:\n  classes: [4, 12]\n",
                 "exp/test.yaml:3:16: 'classes' is 12; it must be between 0 and 9");
    expect_error("pipeline: siamese\ndata:\n  classes: 4\n", "'classes' must be a list");
    expect_error("pipeline: baseline\ndata:\n  backgrounds: cifar\n",
                 "unknown backgrounds 'cifar' (did you mean 'cifar10'?); choose one of: "
                 "procedural, cifar10");
    expect_error("pipeline: siamese\ndata:\n  triplets: yes\n",
                 "'triplets' must be true or false, not 'yes'");
    expect_error("pipeline: baseline\ndata:\n  train: 5\n  train: 6\n",
                 "exp/test.yaml:4:3: key 'train' appears twice in data (first at line 3)");
    expect_error("pipeline: baseline\ndata: 5\n", "'data' must be a mapping");
    /* A key that another pipeline takes is named as that pipeline's, with this one's keys. */
    expect_error("pipeline: baseline\ndata:\n  train: 50\n  grid: 32\n",
                 "exp/test.yaml:4:3: 'grid' is a data key of the dae pipeline, not of baseline; "
                 "the baseline pipeline's data keys are: dataset, path, train, test, "
                 "backgrounds, cifar10, pools_per_class, ood_pool");
    expect_error("pipeline: vae\ndata:\n  pools_per_class: 3\n",
                 "'pools_per_class' is a data key of the baseline, similarity pipelines, not of "
                 "vae");
    expect_error("pipeline: similarity\ndata:\n  classes: [1, 2]\n",
                 "exp/test.yaml:3:3: 'classes' is a data key of the siamese, dae, vae pipelines");
    expect_error("pipeline: baseline\nseed: -1\n", "'seed' is -1");
    /* Pools that would not fit in memory (they exhausted it) are refused where they stand. */
    expect_error("pipeline: baseline\ndata:\n  pools_per_class: 100000\n",
                 "exp/test.yaml:3:20: pools_per_class is 100000; at most 5000");
    expect_error("pipeline: baseline\ndata:\n  ood_pool: 5001\n", "ood_pool is 5001; at most");
    cg_ydoc *doc;
    cg_status st = cg_ydoc_load("/no/such/experiment.yaml", &doc);
    CHECK(st == CG_ERR_IO, "missing file");
    CHECK_CONTAINS(cg_error_message(), "/no/such/experiment.yaml");
    return cgt_finish("test_exp_data");
}
