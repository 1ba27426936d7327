/* Experiment descriptors: every class of error (unknown key, wrong type, unknown layer type,
 * unknown module, an undefined value, a shape that does not fit, a bad variant or override,
 * missing sections) fails with file:line:col and a hint; variants and --set apply; parameter
 * names follow PyTorch; weights round-trip through .safetensors, and a missing or mis-shaped
 * tensor is named. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "exp/experiment.h"
#include "graph/params.h"
#include "graph/safetensors.h"
#include "pipelines/runner.h"
#include "harness.h"
#include "pipelines/pipeline.h"
#include "pipelines/samples.h"

static char dir[] = "/tmp/clgraph-exp-XXXXXX";

static const char *write_exp(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static const char base[] = "name: tiny\n"
                           "pipeline: dae\n"
                           "data: {train: 64, test: 32}\n"
                           "model:\n"
                           "  enc:\n"
                           "    - flatten\n"
                           "    - {type: linear, out: 16, name: fc1}\n"
                           "    - relu\n"
                           "    - {type: linear, out: 10, name: fc2}\n"
                           "graph:\n"
                           "  logits: {module: enc, input: x}\n"
                           "  h: {tap: enc.fc1}\n"
                           "losses:\n"
                           "  - {type: cross_entropy, inputs: [logits, y]}\n"
                           "train: {epochs: 2, batch: 16}\n"
                           "variants:\n"
                           "  small: {model.enc.1.out: 8, train.epochs: 1}\n";

static void expect_load_error(const char *name, const char *text, const char *part) {
    cg_experiment e;
    const char *p = write_exp(name, text);
    cg_status st = cg_experiment_load(p, NULL, NULL, 0, &e);
    CHECK(st != CG_OK, "%s is refused", name);
    CHECK(strstr(cg_error_message(), part) != NULL, "%s:\n    message: %s\n    lacks: %s", name,
          cg_error_message(), part);
}

/* Replaces the first `from` in text by `to`. */
static const char *edit_text(const char *text, const char *from, const char *to) {
    static char out[4096];
    const char *at = strstr(text, from);
    if (!at)
        return text;
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* Replaces the first `from` in base by `to`. */
static const char *edit(const char *from, const char *to) {
    return edit_text(base, from, to);
}

static const char staged[] = "name: staged\n"
                             "pipeline: dae\n"
                             "data: {train: 96, test: 32}\n"
                             "model:\n"
                             "  enc: [flatten, {type: linear, out: 12, name: fc}, relu]\n"
                             "  head_a: [{type: linear, out: 10, name: fc}]\n"
                             "  head_b: [{type: linear, out: 10, name: fc}]\n"
                             "graph:\n"
                             "  h: {module: enc, input: x}\n"
                             "stages:\n"
                             "  - name: first\n"
                             "    graph: {a: {module: head_a, input: h}}\n"
                             "    losses: [{type: cross_entropy, inputs: [a, y]}]\n"
                             "  - name: second\n"
                             "    split: test\n"
                             "    graph: {b: {module: head_b, input: h}}\n"
                             "    losses: [{type: cross_entropy, inputs: [b, y]}]\n"
                             "    freeze: [enc]\n"
                             "    optimizer: {type: sgd, lr: 0.5}\n"
                             "    epochs: 2\n"
                             "train: {batch: 16, epochs: 1}\n";

/* Two stages: parameters carry from the first to the second by name; the second's frozen
 * module does not move while its new head does; a whole run writes every module's weights. */
static void test_stages(cg_context *ctx) {
    cg_experiment e;
    char path[512];
    snprintf(path, sizeof path, "%s", write_exp("staged.yaml", staged));
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, &e));
    CHECK(e.n_stages == 2 && e.stages[1].n_freeze == 1 && e.stages[1].epochs == 2 &&
              e.stages[0].epochs == 1 && strcmp(e.stages[1].split, "test") == 0 &&
              e.stages[1].optimizer.kind == CG_OPTIM_SGD,
          "stages parsed");
    cg_data_config c = e.data.data;
    cg_dataset d;
    CHECK_OK(cg_data_generate("dae", &c, &d));
    cg_exp_graph g1, g2;
    CHECK_OK(cg_experiment_build(&e, 0, ctx, cg_dataset_find(&d, "train"), 16, 1, &g1));
    CHECK_OK(cg_experiment_build(&e, 1, ctx, cg_dataset_find(&d, "test"), 16, 2, &g2));
    CHECK(cg_graph_param_count(g1.graph) == 4 && cg_graph_param_count(g2.graph) == 4,
          "each stage has its own head");
    CHECK(strcmp(cg_graph_param_at(g2.graph, 2).name, "head_b.fc.weight") == 0, "head_b named");
    static cg_param_store store;
    CHECK_OK(cg_param_store_take(&store, g1.graph));
    CHECK_OK(cg_param_store_give(&store, g2.graph, false, "stage 1"));
    size_t n = cg_graph_param_buffer_floats(g2.graph);
    float *before = calloc(n, 4), *after = calloc(n, 4);
    CHECK_OK(cg_graph_read_params(g2.graph, before, false));
    cg_param_info enc_w = cg_graph_param_at(g2.graph, 0), head_w = cg_graph_param_at(g2.graph, 2);
    const cg_param_tensor *t = cg_param_store_find(&store, "enc.fc.weight");
    CHECK(t && memcmp(t->data, before + enc_w.offset, 12 * 784 * 4) == 0,
          "stage 2 starts from stage 1's encoder");
    cg_split *split = cg_dataset_find(&d, "test");
    for (int a = 0; a < split->n_arrays; a++)
        CHECK_OK(cg__buffer_write(ctx, cg_graph_value_mem(g2.graph, g2.inputs[a]),
                                  split->arrays[a].data,
                                  cg_shape_numel(&split->arrays[a].shape) / 2 * 4 / 1));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(cg_graph_forward(g2.graph, true));
        CHECK_OK(cg_graph_backward(g2.graph));
        CHECK_OK(cg_graph_step(g2.graph, &e.stages[1].optimizer));
    }
    CHECK_OK(cg_graph_read_params(g2.graph, after, false));
    CHECK(memcmp(before + enc_w.offset, after + enc_w.offset, 12 * 784 * 4) == 0,
          "the frozen encoder did not move");
    CHECK(memcmp(before + head_w.offset, after + head_w.offset, 10 * 12 * 4) != 0,
          "the second head trained");
    free(before);
    free(after);
    cg_param_store_free(&store);
    cg_exp_graph_free(&g1);
    cg_exp_graph_free(&g2);
    cg_dataset_free(&d);

    char out[600];
    snprintf(out, sizeof out, "%s/run", dir);
    cg_run_options o = {.file = path, .out_dir = out};
    CHECK_OK(cg_run(&o));
    char w[700];
    snprintf(w, sizeof w, "%s/weights/base-r1.safetensors", out);
    CHECK_OK(cg_param_store_load(&store, w));
    CHECK(store.n == 6 && cg_param_store_find(&store, "head_a.fc.bias") &&
              cg_param_store_find(&store, "head_b.fc.weight"),
          "the saved weights hold every module (%d tensors)", store.n);
    cg_param_store_free(&store);
    snprintf(w, sizeof w, "%s/metrics.csv", out);
    char *csv = NULL;
    CHECK_OK(cg__read_file(w, &csv, NULL));
    CHECK(csv && strstr(csv, "base,0,1,train,loss,") && strstr(csv, "base,0,3,test,loss,"),
          "metrics.csv counts epochs across stages:\n%s", csv ? csv : "");
    free(csv);
}

static const char blocks[] = "name: blocks\n"
                             "pipeline: dae\n"
                             "seed: 2\n"
                             "data: {task: open_set, classes: [0, 1, 2], train: 300, test: 90}\n"
                             "model:\n"
                             "  net: [flatten, {type: linear, out: 10, name: fc}]\n"
                             "graph:\n"
                             "  logits: {module: net, input: x}\n"
                             "  score: {type: slice, start: 0, count: 1, inputs: [logits]}\n"
                             "  pair: {type: slice, start: 1, count: 2, inputs: [logits]}\n"
                             "stages:\n"
                             "  - name: fit\n"
                             "    batch: 20\n"
                             "    epochs: 2\n"
                             "    losses: [{type: cross_entropy, inputs: [logits, y]}]\n"
                             "    evaluate:\n"
                             "      splits: [test]\n"
                             "      metrics:\n"
                             "        - {type: accuracy, inputs: [logits, y], mask: known, "
                             "name: known_accuracy}\n"
                             "        - {type: accuracy, inputs: [logits, y]}\n"
                             "        - {type: cross_entropy, inputs: [logits, y]}\n"
                             "      collect: [logits, score, pair]\n"
                             "      statistics:\n"
                             "        - {type: auc, score: score, label: known}\n"
                             "        - {type: quantile, value: score, q: 0.9}\n"
                             "        - {type: mean, value: score, mask: known, name: "
                             "known_score}\n"
                             "      figures:\n"
                             "        - {type: roc, score: score, label: known}\n"
                             "        - {type: histogram, value: score, groups: known}\n"
                             "        - {type: scatter, x: pair, colour: y}\n"
                             "train: {batch: 64}\n";

/* The last value of metric on split in metrics.csv. */
static double last_metric(const char *csv, const char *split, const char *metric) {
    char key[128];
    snprintf(key, sizeof key, ",%s,%s,", split, metric);
    double v = NAN;
    for (const char *p = strstr(csv, key); p; p = strstr(p + 1, key))
        v = strtod(p + strlen(key), NULL);
    return v;
}

/* Evaluation blocks: a masked metric, a loss as a metric, a derived metric name, per-sample
 * values collected over a split, and a stage's own batch size; the metrics agree with the
 * collected logits computed on the host. */
static void test_evaluation_blocks(void) {
    cg_experiment e;
    const char *path = write_exp("blocks.yaml", blocks);
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, &e));
    CHECK(cg_exp_stage_batch(&e, 0) == 20 && e.batch == 64, "a stage's own batch");
    CHECK(strcmp(e.stages[0].metrics[1].name, "accuracy_logits") == 0 &&
              strcmp(e.stages[0].metrics[2].name, "cross_entropy") == 0 &&
              strcmp(e.stages[0].metrics[0].mask, "known") == 0,
          "metric names: %s, %s", e.stages[0].metrics[1].name, e.stages[0].metrics[2].name);
    char out[600];
    snprintf(out, sizeof out, "%s/blocks", dir);
    cg_run_options o = {.file = path, .out_dir = out};
    CHECK_OK(cg_run(&o));
    char p[700];
    snprintf(p, sizeof p, "%s/metrics.csv", out);
    char *csv = NULL, *samples = NULL;
    CHECK_OK(cg__read_file(p, &csv, NULL));
    snprintf(p, sizeof p, "%s/samples/base-r1-test.csv", out);
    CHECK_OK(cg__read_file(p, &samples, NULL));
    if (!csv || !samples)
        return;
    CHECK(strstr(csv, "base,0,2,train,loss.cross_entropy,") != NULL, "each loss is logged");
    CHECK(strncmp(samples, "index,y,known,logits_0,logits_1,", 32) == 0 &&
              strstr(samples, ",logits_9,score,pair_0,pair_1\n"),
          "samples header: %.100s", samples);
    /* The host's accuracy over the known samples, accuracy and cross-entropy over all, and the
     * statistics of the score (logit 0): AUC against known, the 90% quantile, the known mean. */
    int n = 0, known = 0, right_known = 0, right = 0;
    double ce = 0, score[90], known_sum = 0;
    bool is_known[90];
    for (char *line = strchr(samples, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        int idx, y, k;
        double z[10];
        char *q = line + 1;
        if (sscanf(q, "%d,%d,%d", &idx, &y, &k) != 3)
            break;
        for (int i = 0; i < 3; i++)
            q = strchr(q, ',') + 1;
        int best = 0;
        double mx = -INFINITY, sum = 0;
        for (int c = 0; c < 10; c++) {
            z[c] = strtod(q, &q);
            q++;
            best = z[c] > z[best] ? c : best;
            mx = z[c] > mx ? z[c] : mx;
        }
        for (int c = 0; c < 10; c++)
            sum += exp(z[c] - mx);
        ce += mx + log(sum) - z[y];
        if (n < 90) {
            score[n] = z[0];
            is_known[n] = k;
            known_sum += k ? z[0] : 0;
        }
        n++;
        known += k;
        right += best == y;
        right_known += k && best == y;
    }
    CHECK(n == 90 && known > 0 && known < 90, "90 test samples, %d known", known);
    double a_known = last_metric(csv, "test", "known_accuracy");
    double a_all = last_metric(csv, "test", "accuracy_logits");
    double ce_all = last_metric(csv, "test", "cross_entropy");
    CHECK(fabs(a_known - (double)right_known / known) < 1e-6, "masked accuracy %g, host %g",
          a_known, (double)right_known / known);
    CHECK(fabs(a_all - (double)right / n) < 1e-6, "accuracy %g, host %g", a_all,
          (double)right / n);
    CHECK(fabs(ce_all - ce / n) < 1e-4 * (1 + ce / n), "a loss as a metric %g, host %g", ce_all,
          ce / n);
    double pairs = 0, wins = 0;
    for (int i = 0; i < 90; i++)
        for (int j = 0; j < 90; j++)
            if (is_known[i] && !is_known[j]) {
                pairs++;
                wins += score[i] > score[j] ? 1 : score[i] == score[j] ? 0.5 : 0;
            }
    double sorted[90];
    memcpy(sorted, score, sizeof sorted);
    for (int i = 1; i < 90; i++)
        for (int j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    double q90 = sorted[80] + 0.1 * (sorted[81] - sorted[80]); /* 0.9 * 89 = 80.1 */
    CHECK(fabs(last_metric(csv, "test", "auc_score") - wins / pairs) < 1e-6,
          "AUC %g, host (Mann-Whitney) %g", last_metric(csv, "test", "auc_score"), wins / pairs);
    CHECK(fabs(last_metric(csv, "test", "q90_score") - q90) < 1e-5, "quantile %g, host %g",
          last_metric(csv, "test", "q90_score"), q90);
    CHECK(fabs(last_metric(csv, "test", "known_score") - known_sum / known) < 1e-5,
          "masked mean %g, host %g", last_metric(csv, "test", "known_score"), known_sum / known);
    static const char *const figs[] = {"samples-base-1-roc-score.svg",
                                       "samples-base-2-histogram-score-test.svg",
                                       "samples-base-3-scatter-pair-test.svg"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/figures/%s", out, figs[i]);
        CHECK(access(p, R_OK) == 0, "figure %s drawn", figs[i]);
    }
    snprintf(p, sizeof p, "%s/report.html", out);
    char *html = NULL;
    CHECK_OK(cg__read_file(p, &html, NULL));
    CHECK(html && strstr(html, "base: ROC of score (positive: known != 0).") &&
              strstr(html, "samples-base-3-scatter-pair-test.svg"),
          "the report shows the figures of collected values");
    free(html);
    free(csv);
    free(samples);

    /* Names and labels. */
    expect_load_error("dup.yaml",
                      "pipeline: dae\nmodel:\n  net: [flatten, {type: linear, out: 10}]\n"
                      "graph:\n  logits: {module: net, input: x}\n"
                      "losses: [{type: cross_entropy, inputs: [logits, y]}]\n"
                      "evaluate:\n  splits: [test]\n  metrics:\n"
                      "    - {type: accuracy, inputs: [logits, y], name: acc}\n"
                      "    - {type: accuracy, inputs: [logits, y], name: acc}\n",
                      "dup.yaml:11:7: two metrics are named 'acc' (the first at line 10)");
    expect_load_error("reserved.yaml",
                      "pipeline: dae\nmodel:\n  net: [flatten, {type: linear, out: 10}]\n"
                      "graph:\n  logits: {module: net, input: x}\n"
                      "losses: [{type: cross_entropy, inputs: [logits, y]}]\n"
                      "evaluate:\n  splits: [test]\n  metrics:\n"
                      "    - {type: accuracy, inputs: [logits, y], name: loss}\n",
                      "the metric name 'loss' is the training log's");
    const char *narrow = write_exp("narrow.yaml",
                                   "pipeline: dae\ndata: {train: 64, test: 16}\n"
                                   "model:\n  net: [flatten, {type: linear, out: 5}]\n"
                                   "graph:\n  logits: {module: net, input: x}\n"
                                   "losses: [{type: cross_entropy, inputs: [logits, y]}]\n");
    CHECK_OK(cg_experiment_load(narrow, NULL, NULL, 0, &e));
    cg_dataset d;
    cg_data_config c = e.data.data;
    CHECK_OK(cg_data_generate("dae", &c, &d));
    cg_status st = cg_experiment_check_stage(&e, 0, &d, NULL);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "labels past the outputs are refused");
    CHECK_CONTAINS(cg_error_message(), "narrow.yaml:7:10: loss 'cross_entropy' scores 5 classes "
                                       "from 'logits' (labels 0 to 4), but sample");
    CHECK_CONTAINS(cg_error_message(), "of split 'train' has label");
    cg_dataset_free(&d);

    /* A pairs-trained embedding evaluates on single images; a typo is still an error. */
    static const char emb[] = "pipeline: siamese\n"
                              "data: {train: 96, test: 40, shifts: [-3]}\n"
                              "model:\n  embed: [flatten, {type: linear, out: 2, name: fc}]\n"
                              "graph:\n"
                              "  e1: {module: embed, input: x1}\n"
                              "  e2: {module: embed, input: x2}\n"
                              "  z: {module: embed, input: x}\n"
                              "  f: {tap: z.fc}\n"
                              "losses: [{type: contrastive, inputs: [e1, e2, target]}]\n"
                              "train: {epochs: 1, batch: 32, split: pairs}\n"
                              "evaluate: {splits: [test, test_shift_m3], collect: [z, f]}\n";
    path = write_exp("emb.yaml", emb);
    snprintf(out, sizeof out, "%s/emb", dir);
    cg_run_options eo = {.file = path, .out_dir = out};
    CHECK_OK(cg_run(&eo));
    snprintf(p, sizeof p, "%s/samples/base-r1-test_shift_m3.csv", out);
    CHECK_OK(cg__read_file(p, &samples, NULL));
    int rows = 0;
    for (char *q = samples; q && (q = strchr(q, '\n')); q++)
        rows++;
    CHECK(samples && strncmp(samples, "index,y,z_0,z_1,f_0,f_1\n", 24) == 0 && rows == 41,
          "the embedding of every shifted test image: %d lines, %.40s", rows,
          samples ? samples : "");
    free(samples);
    const char *typo = write_exp("typo.yaml", edit_text(emb, "input: x}", "input: xx}"));
    CHECK_OK(cg_experiment_load(typo, NULL, NULL, 0, &e));
    c = e.data.data;
    CHECK_OK(cg_data_generate("siamese", &c, &d));
    st = cg_experiment_check_stage(&e, 0, &d, NULL);
    CHECK(st == CG_ERR_PARSE, "a name no split has");
    CHECK_CONTAINS(cg_error_message(), "typo.yaml:8:6: 'z' uses 'xx', which is not defined");
    cg_dataset_free(&d);
    /* A split the data lacks is named where it stands, with the nearest the data has. */
    static const struct {
        const char *from, *to, *message;
    } splits[] = {
        {"splits: [test, test_shift_m3]", "splits: [test, test_shift_m4]",
         "typo.yaml:12:27: stage 'train' names split 'test_shift_m4' (did you mean "
         "'test_shift_m3'?), which the siamese data does not have"},
        {"split: pairs}", "split: pair}",
         "typo.yaml:11:38: stage 'train' names split 'pair' (did you mean 'pairs'?)"},
    };
    for (size_t i = 0; i < CG__ARRAY_LEN(splits); i++) {
        typo = write_exp("typo.yaml", edit_text(emb, splits[i].from, splits[i].to));
        CHECK_OK(cg_experiment_load(typo, NULL, NULL, 0, &e));
        c = e.data.data;
        CHECK_OK(cg_data_generate("siamese", &c, &d));
        st = cg_experiment_check_stage(&e, 0, &d, NULL);
        CHECK(st == CG_ERR_PARSE, "an unknown split: %s", splits[i].to);
        CHECK_CONTAINS(cg_error_message(), splits[i].message);
        cg_dataset_free(&d);
    }
}

static const char vae[] =
    "pipeline: vae\n"
    "data: {train: 200, test: 100, labeled_per_class: 4}\n"
    "model:\n"
    "  enc: [flatten, {type: linear, out: 16}, relu]\n"
    "  mu: {type: linear, out: 2}\n"
    "  ls: {type: linear, out: 2}\n"
    "  dec: [{type: linear, out: 1024}, sigmoid]\n"
    "graph:\n"
    "  h: {module: enc, input: x}\n"
    "  m: {module: mu, input: h}\n"
    "  s: {module: ls, input: h}\n"
    "  z: {type: reparameterize, inputs: [m, s], sample: always}\n"
    "  recon: {module: dec, input: z}\n"
    "  flat: {type: flatten, inputs: [x]}\n"
    "  kl: {type: kl_normal, inputs: [m, s]}\n"
    "  rec: {type: gaussian_nll, inputs: [recon, flat], variance: 0.5}\n"
    "  score: {type: add, inputs: [kl, rec]}\n"
    "  lr: {type: kl_sample, inputs: [z, m, s]}\n"
    "  nlw: {type: add, inputs: [rec, lr]}\n"
    "  prior: {module: dec, input: m}\n"
    "stages:\n"
    "  - name: fit\n"
    "    split: unlabeled\n"
    "    batch: 20\n"
    "    losses: [{type: kl_normal, inputs: [m, s]}, {type: mse, inputs: [recon, flat]}]\n"
    "    evaluate:\n"
    "      splits: [test_a]\n"
    "      batch: 50\n"
    "      metrics: [{type: add, inputs: [kl, rec], name: nelbo}]\n"
    "      collect: [score, {value: rec, draws: 3, combine: importance, name: iwae}]\n"
    "      statistics: [{type: auc, score: iwae, label: anomaly}]\n"
    "      figures: [{type: images, values: [flat, prior], count: 4}]\n"
    "report:\n"
    "  figures: [{type: epochs, metric: [loss, nelbo], splits: [unlabeled, test_a]}]\n";

/* The VAE study's pieces: a one-layer module named as PyTorch names a bare layer, graphs that
 * leave out the nodes nothing of theirs reads, collected values over several draws, images
 * figures, add as a metric, a list of metrics in an epochs figure, and the mistakes of each. */
static void test_vae_pieces(void) {
    cg_experiment e;
    const char *path = write_exp("vae.yaml", vae);
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, &e));
    const cg_exp_stage *sg = &e.stages[0];
    CHECK(sg->n_collect == 2 && sg->collect_draws[1] == 3 &&
              sg->collect_combine[1] == CG_COMBINE_IMPORTANCE &&
              !strcmp(sg->collect[1], "iwae") && !strcmp(sg->collect_value[1], "rec") &&
              sg->eval_batch == 50,
          "collect entries: %s <- %s x %d", sg->collect[1], sg->collect_value[1],
          sg->collect_draws[1]);
    CHECK(sg->sample_figures[0].n_values == 2 && sg->sample_figures[0].count == 4 &&
              e.report.figures[0].n_more == 1 && !strcmp(e.report.figures[0].more[0], "nelbo"),
          "an images figure and a list of metrics");
    cg_dataset d;
    cg_data_config c = e.data.data;
    CHECK_OK(cg_data_generate("vae", &c, &d));
    cg_exp_graph tg = {0};
    CHECK_OK(cg_experiment_check_stage(&e, 0, &d, &tg));
    bool has_score = false, has_prior = false, has_recon = false, bare = false;
    for (int i = 0; tg.graph && i < cg_graph_node_count(tg.graph); i++) {
        const char *n = cg_graph_node_at(tg.graph, i).name;
        has_score = has_score || !strcmp(n, "score");
        has_prior = has_prior || !strncmp(n, "prior", 5);
        has_recon = has_recon || !strncmp(n, "recon", 5) || !strncmp(n, "dec.", 4);
    }
    for (int i = 0; tg.graph && i < cg_graph_param_count(tg.graph); i++)
        bare = bare || !strcmp(cg_graph_param_at(tg.graph, i).name, "mu.weight");
    CHECK(!has_score && !has_prior && has_recon, "the training graph leaves out what only "
                                                 "evaluation reads (score %d, prior %d)",
          has_score, has_prior);
    CHECK(bare, "a one-layer module's parameters are mu.weight and mu.bias");
    cg_exp_graph_free(&tg);

    /* What the data decides: a value neither collected nor an array, a value that is no image. */
    static const struct {
        const char *from, *to, *message;
    } late[] = {
        {"score: iwae, label", "score: kl, label",
         "vae.yaml:31:39: 'kl' is not collected, nor an array of split 'test_a'"},
        {"values: [flat, prior]", "values: [flat, m]",
         "vae.yaml:32:17: images: 'm' has shape (50, 2), which is no image per sample"},
    };
    for (size_t i = 0; i < sizeof late / sizeof *late; i++) {
        CHECK_OK(cg_experiment_load(write_exp("vae.yaml", edit_text(vae, late[i].from, late[i].to)),
                                    NULL, NULL, 0, &e));
        CHECK(cg_experiment_check_stage(&e, 0, &d, NULL) != CG_OK, "refused: %s", late[i].to);
        CHECK_CONTAINS(cg_error_message(), late[i].message);
    }
    /* An oracle needs no collecting: the anomaly flags are an array of the split. */
    CHECK_OK(cg_experiment_load(write_exp("vae.yaml", edit_text(vae, "score: iwae, label",
                                                                "score: anomaly, label")),
                                NULL, NULL, 0, &e));
    CHECK_OK(cg_experiment_check_stage(&e, 0, &d, NULL));
    cg_dataset_free(&d);

    static const struct {
        const char *from, *to, *message;
    } bad[] = {
        {"{value: rec, draws: 3", "{draws: 3", "a collected value given as a mapping needs "
                                               "'value:'"},
        {"combine: importance", "combine: median", "median"},
        {"draws: 3", "draws: 0", "draws"},
        {"name: iwae}", "name: score}", "'score' is collected twice"},
        {"values: [flat, prior], count: 4", "count: 4", "images needs 'values:'"},
        {"{type: images, values: [flat, prior]", "{type: histogram, value: score, values: [a]",
         "histogram takes no 'values:'"},
        {"[{type: epochs, metric: [loss, nelbo]", "[{type: box, metric: [loss, nelbo]",
         "a box figure plots one metric"},
        {"{type: add, inputs: [kl, rec], name: nelbo}", "{type: relu, inputs: [kl]}",
         "relu is not a metric"},
        {"  mu: {type: linear, out: 2}", "  mu: {type: linear, out: 2, name: fc}",
         "module 'mu' is one layer; it takes no 'name:'"},
        {"sample: always", "sample: sometimes", "sometimes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        expect_load_error("vae.yaml", edit_text(vae, bad[i].from, bad[i].to), bad[i].message);
}

/* The dAE study's toy map: a classifier of three rings, its confidence drawn over the grid as a
 * heatmap, and the final accuracies of the repeats as a box plot in the report. */
static void test_rings_map(void) {
    static const char rings[] =
        "name: rings\n"
        "pipeline: dae\n"
        "repeats: 2\n"
        "data: {task: rings, train: 300, grid: 12}\n"
        "model:\n"
        "  net: [{type: linear, out: 16}, relu, {type: linear, out: 3}, softmax]\n"
        "graph:\n"
        "  p: {module: net, input: x}\n"
        "  conf: {type: slice, start: 0, count: 1, inputs: [p]}\n"
        "losses: [{type: mse, inputs: [p, p]}]\n"
        "train: {epochs: 2, batch: 50}\n"
        "evaluate:\n"
        "  splits: [train, grid]\n"
        "  metrics: [{type: accuracy, inputs: [p, y]}]\n"
        "  collect: [conf]\n"
        "  statistics: [{type: mean, value: conf, split: grid}]\n"
        "  figures: [{type: heatmap, value: conf, at: x, split: grid}]\n"
        "report:\n"
        "  figures: [{type: box, metric: accuracy, splits: [train]}]\n";
    const char *path = write_exp("rings.yaml", rings);
    char out[600], p[800];
    snprintf(out, sizeof out, "%s/rings", dir);
    cg_run_options o = {.file = path, .out_dir = out};
    CHECK_OK(cg_run(&o));
    snprintf(p, sizeof p, "%s/figures/samples-base-1-heatmap-conf-grid.svg", out);
    char *svg = NULL;
    CHECK_OK(cg__read_file(p, &svg, NULL));
    const char *cells = svg ? strstr(svg, "class=\"cells\"") : NULL;
    int n = 0;
    for (const char *q = cells; q && (q = strstr(q + 1, "<rect")) && q < strstr(cells, "</g>");)
        n++;
    CHECK(n == 144, "a heatmap of the 12 x 12 grid (%d cells)", n);
    free(svg);
    snprintf(p, sizeof p, "%s/figures/01-final-accuracy-over-the-repeats.svg", out);
    CHECK_OK(cg__read_file(p, &svg, NULL));
    CHECK(svg && strstr(svg, "class=\"box\" data-label=\"base\""), "a box plot of the repeats");
    free(svg);
    snprintf(p, sizeof p, "%s/metrics.csv", out);
    char *csv = NULL;
    CHECK_OK(cg__read_file(p, &csv, NULL));
    double mean = csv ? last_metric(csv, "grid", "mean_conf") : NAN;
    CHECK(mean > 0 && mean < 1, "the mean confidence over the grid: %g", mean);
    CHECK(csv && !strstr(csv, ",train,mean_conf,"), "a statistic for one split only");
    free(csv);
    const char *bad = write_exp("badsplit.yaml", edit_text(rings, "split: grid}]\n  figures",
                                                           "split: test}]\n  figures"));
    cg_experiment e;
    cg_status st = cg_experiment_load(bad, NULL, NULL, 0, &e);
    CHECK(st == CG_ERR_PARSE, "a statistic's split must be evaluated");
    CHECK_CONTAINS(cg_error_message(), "split 'test' is not one of this block's 'splits:'");
    /* The embedding statistics' keys: each mistake is a located error with a hint. */
    static const struct {
        const char *entry, *message;
    } wrong[] = {
        {"{type: knn_accuracy, value: conf, label: y}", "knn_accuracy needs 'reference:'"},
        {"{type: stray, value: conf, label: y, reference: test}",
         "the reference split 'test' is not one of this block's 'splits:'"},
        {"{type: knn_accuracy, value: conf, reference: train}",
         "knn_accuracy needs 'label:' (an integer array such as y)"},
        {"{type: silhouette, value: conf, label: y}", "silhouette needs 'splits:'"},
        {"{type: silhouette, value: conf, label: y, splits: [train]}",
         "'splits' is a list of 2 to 8"},
        {"{type: silhouette, value: conf, label: y, splits: [train, train]}",
         "split 'train' is listed twice"},
        {"{type: mean, value: conf, k: 3}", "mean takes no 'k:'"},
        {"{type: mean, value: conf, known: y}", "mean takes no 'known:' (f_measure does)"},
        {"{type: mean_abs_error, value: conf}", "mean_abs_error needs 'truth:'"},
        {"{type: mean, value: conf, reference: train}", "mean takes no 'reference:'"},
        {"{type: knn_accuracy, value: conf, label: y, reference: train, k: 0}", "'k'"},
    };
    for (size_t i = 0; i < CG__ARRAY_LEN(wrong); i++) {
        char entry[200];
        snprintf(entry, sizeof entry, "statistics: [%s]\n  figures", wrong[i].entry);
        bad = write_exp("badstat.yaml",
                        edit_text(rings, "statistics: [{type: mean, value: conf, split: grid}]\n"
                                         "  figures",
                                  entry));
        st = cg_experiment_load(bad, NULL, NULL, 0, &e);
        CHECK(st == CG_ERR_PARSE && strstr(cg_error_message(), "badstat.yaml:16:"),
              "%s is refused where it stands: %s", wrong[i].entry, cg_error_message());
        CHECK_CONTAINS(cg_error_message(), wrong[i].message);
    }
    bad = write_exp("badfig.yaml",
                    edit_text(rings, "figures: [{type: heatmap, value: conf, at: x, split: grid}]",
                              "figures: [{type: scatter, x: conf, split: grid, splits: [train]}]"));
    st = cg_experiment_load(bad, NULL, NULL, 0, &e);
    CHECK(st == CG_ERR_PARSE, "split and splits together");
    CHECK_CONTAINS(cg_error_message(), "give 'split:' or 'splits:', not both");
}

/* A sweep: every variant at every value of one key, named <variant>_<value>; the reference
 * stands for itself at each value; the report's sweep table and figure. */
static void test_sweep(void) {
    static const char text[] =
        "name: sweep\n"
        "pipeline: dae\n"
        "data: {task: rings, train: 120, grid: 4}\n"
        "model:\n"
        "  net: [{type: linear, out: 8}, relu, {type: linear, out: 3}]\n"
        "graph:\n"
        "  p: {module: net, input: x}\n"
        "  s: {type: softmax, inputs: [p]}\n"
        "  top: {type: max, inputs: [s]}\n"
        "losses: [{type: cross_entropy, inputs: [p, y]}]\n"
        "train: {epochs: 1, batch: 40}\n"
        "evaluate:\n"
        "  splits: [train]\n"
        "  metrics: [{type: accuracy, inputs: [p, y]}]\n"
        "  collect: [top]\n"
        "  statistics: [{type: mean, value: top}]\n"
        "  figures: [{type: roc, score: top, label: y}]\n"
        "variants:\n"
        "  a: {}\n"
        "  b: {optimizer.lr: 0.01}\n"
        "sweep:\n"
        "  key: train.epochs\n"
        "  values: {e1: 1, e3: 3}\n"
        "report:\n"
        "  reference: a\n"
        "  figures: [{type: sweep, metric: mean_top, x: accuracy, splits: [train]}]\n";
    const char *path = write_exp("sweep.yaml", text);
    cg_experiment *e = calloc(1, sizeof *e);
    if (!e)
        return;
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, e));
    CHECK(e->n_variants == 4 && !strcmp(e->variants[0], "a_e1") &&
              !strcmp(e->variants[3], "b_e3") && e->n_bases == 2 && e->n_sweep == 2,
          "the variants are every variant at every value: %d, %s .. %s", e->n_variants,
          e->variants[0], e->variants[3]);
    CHECK_OK(cg_experiment_load(path, "b_e3", NULL, 0, e));
    CHECK(e->stages[0].epochs == 3 && fabsf(e->stages[0].optimizer.lr - 0.01f) < 1e-7f,
          "b_e3 has b's overrides and the sweep's value: %d epochs, lr %g", e->stages[0].epochs,
          (double)e->stages[0].optimizer.lr);
    CHECK(cg_experiment_load(path, "b", NULL, 0, e) == CG_ERR_NOT_FOUND,
          "a base alone is no variant of a sweep");
    CHECK_CONTAINS(cg_error_message(), "named <variant>_<value>");
    char out[600], p[800];
    snprintf(out, sizeof out, "%s/sweep", dir);
    cg_run_options o = {.file = path, .out_dir = out};
    CHECK_OK(cg_run(&o));
    snprintf(p, sizeof p, "%s/metrics.csv", out);
    char *csv = NULL;
    CHECK_OK(cg__read_file(p, &csv, NULL));
    CHECK(csv && strstr(csv, "b_e3,0,3,train,accuracy,") && !strstr(csv, "a_e1,0,3,"),
          "each variant trains for its value's epochs");
    free(csv);
    snprintf(p, sizeof p, "%s/report.html", out);
    char *html = NULL;
    CHECK_OK(cg__read_file(p, &html, NULL));
    CHECK(html && strstr(html, "Over the sweep of train.epochs") &&
              strstr(html, "<th>b</th>") && strstr(html, "(2 values)"),
          "the report's sweep table: a row per variant of the file, over the 2 values");
    CHECK(html && strstr(html, "vs a_e3"), "b_e3 is tested against a at the same value");
    free(html);
    snprintf(p, sizeof p, "%s/figures/01-mean-top-against-accuracy.svg", out);
    char *svg = NULL;
    CHECK_OK(cg__read_file(p, &svg, NULL));
    CHECK(svg && strstr(svg, "data-label=\"a\"") && strstr(svg, "data-label=\"b\""),
          "the sweep figure: a line per variant of the file");
    free(svg);
    /* The ROC curves: one figure per variant of the file, a curve per value and their mean
     * (whose area is the mean of theirs); none per run. */
    snprintf(p, sizeof p, "%s/figures/samples-b-sweep-roc-top.svg", out);
    svg = NULL;
    CHECK_OK(cg__read_file(p, &svg, NULL));
    const char *e1 = svg ? strstr(svg, "data-label=\"e1 (AUC ") : NULL;
    const char *e3 = svg ? strstr(svg, "data-label=\"e3 (AUC ") : NULL;
    const char *mean = svg ? strstr(svg, "data-label=\"mean (AUC ") : NULL;
    CHECK(e1 && e3 && mean, "b's ROC figure has e1, e3 and their mean");
    if (e1 && e3 && mean) {
        double a1 = atof(e1 + 18), a3 = atof(e3 + 18), am = atof(mean + 20);
        CHECK(fabs((a1 + a3) / 2 - am) < 0.0015, "the mean's area %.3f is that of %.3f and %.3f",
              am, a1, a3);
    }
    free(svg);
    snprintf(p, sizeof p, "%s/figures/samples-b_e1-1-roc-top.svg", out);
    CHECK(access(p, F_OK) != 0, "no ROC figure per run of a sweep");
    /* Mistakes, each where it stands. */
    expect_load_error("sweep1.yaml", edit_text(text, "  key: train.epochs\n", ""),
                      "'sweep' needs key:");
    expect_load_error("sweep2.yaml", edit_text(text, "e3: 3}", "e/3: 3}"),
                      "sweep value name 'e/3'");
    expect_load_error("sweep3.yaml", edit_text(text, "key: train.epochs", "key: variants.a"),
                      "a sweep cannot set 'variants.a'");
    expect_load_error("sweep4.yaml", edit_text(text, "values: {e1: 1, e3: 3}", "values: []"),
                      "sweep 'values' maps names to values");
    expect_load_error("sweep5.yaml",
                      edit_text(text, "sweep:\n  key: train.epochs\n  values: {e1: 1, e3: 3}\n",
                                ""),
                      "a sweep figure needs the file's 'sweep:'");
    expect_load_error("sweep6.yaml", edit_text(text, ", x: accuracy", ""),
                      "a sweep figure needs 'x:'");
    char many[2600] = "{";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sv%d: 1", i ? ", " : "", i);
    strcat(many, "}");
    expect_load_error("sweep7.yaml", edit_text(text, "{e1: 1, e3: 3}", many),
                      "the sweep makes 66 variants (2 variants x 33 values); at most 64");
    free(e);
}

/* The open-set and estimator statistics on six samples worked by hand: classes 0 and 1 known, 2
 * unknown; threshold 0.9. Sample 0 is accepted as its label (TP), 1 rejected (FN), 2 an unknown
 * accepted (FP), 3 a known accepted as the wrong class (FP and FN), 4 an unknown rejected, 5 TP:
 * F1 = 2 * 2 / (2 * 2 + 2 + 2) = 0.5. Openness 1 - sqrt(2 / 3). The estimate 1..6 against
 * 1.5, 2, 2, 4, 5, 7 is off by 2.5 in all: 2.5 / 6. */
static void test_open_set_statistics(void) {
    static const float scores[18] = {0.95f, 0.03f, 0.02f, 0.5f,  0.4f,  0.1f,
                                     0.05f, 0.92f, 0.03f, 0.02f, 0.97f, 0.01f,
                                     0.3f,  0.3f,  0.4f,  0.01f, 0.98f, 0.01f};
    static const float est[6] = {1, 2, 3, 4, 5, 6}, exact[6] = {1.5f, 2, 2, 4, 5, 7};
    static const int32_t y[6] = {0, 1, 2, 0, 2, 1}, known[6] = {1, 1, 0, 1, 0, 1};
    cg_dataset d = {0};
    cg_split *sp = cg_dataset_add_split(&d, "test");
    cg_array *ya = sp ? cg_split_add(sp, "y", CG_I32, cg_shape_make(1, 6, 0, 0, 0)) : NULL;
    cg_array *ka = ya ? cg_split_add(sp, "known", CG_I32, cg_shape_make(1, 6, 0, 0, 0)) : NULL;
    cg_experiment *e = calloc(1, sizeof *e);
    CHECK(ka && e, "a split and an experiment");
    if (!ka || !e) {
        free(e);
        cg_dataset_free(&d);
        return;
    }
    memcpy(ya->data, y, sizeof y);
    memcpy(ka->data, known, sizeof known);
    cg__copy_str(e->file, sizeof e->file, "hand.yaml");
    cg_exp_stage *sg = &e->stages[0];
    static const struct {
        const char *type, *value, *by, *known;
        double want;
    } items[] = {
        {"f_measure", "score", "y", "known", 0.5},
        {"openness", "y", "known", "", 0.18350341907227397},
        {"mean_abs_error", "est", "exact", "", 2.5 / 6},
        {"f_measure", "score", "y", "", 0.4}, /* all known: TP 2, FP 2 (2, 3), FN 4 (1-4) */
    };
    for (int i = 0; i < 4; i++) {
        cg_exp_sample_item *it = &sg->statistics[i];
        snprintf(it->type, sizeof it->type, "%s", items[i].type);
        snprintf(it->name, sizeof it->name, "s%d", i);
        snprintf(it->value, sizeof it->value, "%s", items[i].value);
        snprintf(it->by, sizeof it->by, "%s", items[i].by);
        snprintf(it->known, sizeof it->known, "%s", items[i].known);
        it->threshold = 0.9;
    }
    sg->n_statistics = 4;
    cg_samples smp = {.split = sp, .n = 6, .n_values = 3, .names = {"score", "est", "exact"},
                      .width = {3, 1, 1},
                      .rows = {(float *)scores, (float *)est, (float *)exact}};
    double out[4];
    CHECK_OK(cg_samples_statistics(e, sg, &smp, 1, 0, out));
    for (int i = 0; i < 4; i++)
        CHECK(fabs(out[i] - items[i].want) < 1e-6, "%s%s: %.6f, by hand %.6f", items[i].type,
              i == 3 ? " without known" : "", out[i], items[i].want);
    /* A known mask the split lacks is an error naming it. */
    snprintf(sg->statistics[0].known, sizeof sg->statistics[0].known, "unknown_array");
    CHECK(cg_samples_statistics(e, sg, &smp, 1, 0, out) != CG_OK, "a missing known array");
    CHECK_CONTAINS(cg_error_message(), "reads 'unknown_array'");
    free(e);
    cg_dataset_free(&d);
}

/* The descriptor written with a run holds absolute data folders, the header lines behind "# "
 * (a newline in the command line cannot break out of the comment). */
static void test_resolved_paths(void) {
    const char *path = write_exp("paths.yaml", "pipeline: dae\ndata: {path: ../mnist}\n"
                                               "model:\n  net: [flatten, {type: linear, out: 10}]\n"
                                               "graph:\n  logits: {module: net, input: x}\n"
                                               "losses: [{type: cross_entropy, inputs: [logits, y]}]\n");
    char out[600], want[700], real[600];
    snprintf(out, sizeof out, "%s/resolved.yaml", dir);
    CHECK_OK(cg_experiment_write_resolved(path, NULL, NULL, 0, "command: clgraph run x\nevil: 1",
                                          out));
    char *text = NULL;
    CHECK_OK(cg__read_file(out, &text, NULL));
    CHECK(realpath(dir, real) != NULL, "realpath");
    char *slash = strrchr(real, '/');
    if (slash)
        *slash = '\0';
    snprintf(want, sizeof want, "path: %s/mnist", real);
    CHECK(text && strstr(text, want) && strstr(text, "# command: clgraph run x\n# evil: 1\n"),
          "absolute data folder and commented header:\n%s", text ? text : "");
    free(text);
}

int main(void) {
    if (!mkdtemp(dir))
        return 1;
    test_resolved_paths();
    test_evaluation_blocks();
    test_vae_pieces();
    test_rings_map();
    test_open_set_statistics();
    test_sweep();
    cg_experiment e;
    char path[512];
    snprintf(path, sizeof path, "%s", write_exp("ok.yaml", base));
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, &e));
    CHECK(e.n_modules == 1 && e.modules[0].n_layers == 4 && e.n_nodes == 2 &&
              e.n_stages == 1 && e.stages[0].n_losses == 1,
          "parsed: %d modules, %d nodes, %d stages", e.n_modules, e.n_nodes, e.n_stages);
    CHECK(strcmp(e.modules[0].layers[0].name, "0") == 0 &&
              strcmp(e.modules[0].layers[1].name, "fc1") == 0,
          "layers are named by index unless named");
    CHECK(e.stages[0].epochs == 2 && e.batch == 16 && e.n_variants == 1, "train, variants");
    CHECK(e.stages[0].optimizer.kind == CG_OPTIM_ADAM && e.stages[0].optimizer.lr == 1e-3f,
          "Adam by default");
    CHECK_OK(cg_experiment_load(path, "small", NULL, 0, &e));
    CHECK(e.modules[0].layers[1].attrs.features == 8 && e.stages[0].epochs == 1,
          "the variant applies");
    const char *sets[] = {"train.batch=32", "optimizer.lr=0.01", "data.train=128"};
    CHECK_OK(cg_experiment_load(path, NULL, sets, 3, &e));
    CHECK(e.batch == 32 && e.stages[0].optimizer.lr == 0.01f && e.data.data.n_train == 128,
          "--set applies");

    /* The graph builds on the data's shapes, with PyTorch's parameter names. */
    cg_data_config c = e.data.data;
    cg_dataset d;
    CHECK_OK(cg_data_generate("dae", &c, &d));
    cg_exp_graph eg;
    CHECK_OK(cg_experiment_check(&e, 0, cg_dataset_find(&d, "train"), 32, &eg));
    CHECK(cg_graph_param_count(eg.graph) == 4, "four parameter tensors");
    CHECK(strcmp(cg_graph_param_at(eg.graph, 0).name, "enc.fc1.weight") == 0 &&
              strcmp(cg_graph_param_at(eg.graph, 3).name, "enc.fc2.bias") == 0,
          "names %s, %s", cg_graph_param_at(eg.graph, 0).name, cg_graph_param_at(eg.graph, 3).name);
    cg_exp_graph_free(&eg);

    expect_load_error("key.yaml", edit("train: {epochs", "train: {epoch"),
                      "key.yaml:15:9: unknown key 'epoch' in train — did you mean 'epochs'?");
    expect_load_error("type.yaml", edit("epochs: 2", "epochs: two"),
                      "type.yaml:15:17: 'epochs' must be a whole number, not 'two'");
    expect_load_error("layer.yaml", edit("type: linear, out: 16", "type: lienar, out: 16"),
                      "layer.yaml:7:14: unknown layer type 'lienar' — did you mean 'linear'?");
    expect_load_error("need.yaml", edit("type: linear, out: 16, ", "type: linear, "),
                      "need.yaml:7:7: linear needs 'out:'");
    expect_load_error("lkey.yaml", edit("out: 16,", "out: 16, kernel: 3,"),
                      "unknown key 'kernel' in this linear layer");
    expect_load_error("module.yaml", edit("module: enc", "module: encoder"),
                      "module.yaml:11:20: no module 'encoder' under 'model:'");
    expect_load_error("loss.yaml", edit("type: cross_entropy", "type: relu"),
                      "relu is not a loss");
    expect_load_error("nolosses.yaml", edit("losses:\n  - {type: cross_entropy, inputs: [logits, y]}\n", ""),
                      "the experiment has no 'losses:'");
    expect_load_error("tap.yaml", edit("tap: enc.fc1", "tap: fc1"),
                      "a tap names NODE.LAYER or MODULE.LAYER");
    expect_load_error("optim.yaml", edit("train: {", "optimizer: {type: adamw}\ntrain: {"),
                      "unknown type 'adamw' (did you mean 'adam'?)");
    expect_load_error("reduce.yaml", edit("inputs: [logits, y]}", "inputs: [logits, y], reduction: avg}"),
                      "unknown reduction 'avg'");
    expect_load_error("inputs.yaml", edit("inputs: [logits, y]", "inputs: [logits]"),
                      "cross_entropy takes 2 to 2 inputs, 1 given");
    cg_status st = cg_experiment_load(path, "large", NULL, 0, &e);
    CHECK(st == CG_ERR_NOT_FOUND, "unknown variant");
    CHECK_CONTAINS(cg_error_message(), "no variant 'large'; the variants are: small");
    const char *bad_set[] = {"train.epochz=3"};
    st = cg_experiment_load(path, NULL, bad_set, 1, &e);
    CHECK(st != CG_OK, "an override of a missing key inside a mapping is refused later");
    const char *bad_path[] = {"model.enc.9.out=3"};
    st = cg_experiment_load(path, NULL, bad_path, 1, &e);
    CHECK(st == CG_ERR_PARSE, "an override path that does not exist");
    CHECK_CONTAINS(cg_error_message(), "the override 'model.enc.9.out' names '9'");
    /* The index one past a list's end appends (a second loss); two past is an error. */
    const char *append[] = {"losses.1={type: cross_entropy, inputs: [logits, y], name: again}"};
    CHECK_OK(cg_experiment_load(path, NULL, append, 1, &e));
    CHECK(e.stages[0].n_losses == 2 && strcmp(e.stages[0].losses[1].node.name, "again") == 0,
          "an override one past the end of losses adds a loss (%d)", e.stages[0].n_losses);
    const char *past[] = {"losses.2={type: cross_entropy, inputs: [logits, y]}"};
    st = cg_experiment_load(path, NULL, past, 1, &e);
    CHECK(st == CG_ERR_PARSE, "an override two past a list's end");
    CHECK_CONTAINS(cg_error_message(), "the override 'losses.2' names '2'");
    /* Thresholded accuracy, and the paper's numbers in several columns. */
    const char *more = "evaluate:\n  splits: [test]\n  metrics:\n"
                       "    - {type: accuracy, inputs: [logits, y], threshold: 0.9, name: a90}\n"
                       "report:\n  paper:\n    source: the study\n    columns:\n"
                       "      - {metric: test/accuracy, values: {small: '99%'}}\n"
                       "      - {metric: test/a90, values: {small: '98%'}}\n";
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base, more);
    CHECK_OK(cg_experiment_load(write_exp("paper.yaml", text), NULL, NULL, 0, &e));
    const cg_exp_report *rp = &e.report;
    CHECK(rp->n_paper_cols == 2 && strcmp(rp->paper[1].metric, "test/a90") == 0 &&
              rp->paper[1].n == 1 && strcmp(rp->paper[1].value[0], "98%") == 0,
          "two columns of the paper's numbers");
    CHECK(e.stages[0].n_metrics == 1 && e.stages[0].metrics[0].op.attrs.thresholded &&
              e.stages[0].metrics[0].op.attrs.threshold == 0.9f,
          "accuracy with a threshold");
    expect_load_error("classes.yaml", edit("test: 32}", "test: 32, classes: [4, 4]}"),
                      "classes.yaml:3:38: classes: names 4 twice; list each class once");
    /* Values a tester found accepted: each refused where it stands. */
    expect_load_error("betas.yaml", edit("train: {", "optimizer: {type: adam, betas: [2, -1]}\ntrain: {"),
                      "betas.yaml:15:32: 'betas' are [2, -1]; each must lie in [0, 1)");
    expect_load_error("negw.yaml", edit("inputs: [logits, y]}", "inputs: [logits, y], weight: -1}"),
                      "'weight' is -1; a loss weight cannot be negative");
    expect_load_error("bigw.yaml", edit("inputs: [logits, y]}", "inputs: [logits, y], weight: 1e39}"),
                      "'weight' is 1e39, beyond what a 32-bit float holds");
    expect_load_error("dupnode.yaml", edit("  h: {tap: enc.fc1}\n", "  h: {tap: enc.fc1}\n  logits: {module: enc, input: x}\n"),
                      "dupnode.yaml:13:3: key 'logits' appears twice in graph (first at line 11)");
    expect_load_error("dupvar.yaml", edit("  small: {", "  small: {}\n  small: {"),
                      "key 'small' appears twice in variants");
    /* Found by fuzzing: a variant that overrode the variants freed them while they were read. */
    static const char *const own[] = {"variants.", "variants", "variants.small.train", "sweep"};
    for (size_t i = 0; i < CG__ARRAY_LEN(own); i++) {
        char to[96];
        snprintf(to, sizeof to, "  small: {%s: 1, ", own[i]);
        cg_experiment ve;
        const char *p = write_exp("ownvar.yaml", edit("  small: {", to));
        CHECK(cg_experiment_load(p, "small", NULL, 0, &ve) == CG_ERR_PARSE,
              "a variant setting '%s' is refused", own[i]);
        CHECK_CONTAINS(cg_error_message(), "a variant cannot change the");
    }
    static const char *const bad_names[] = {"''", "'...'", "'. .'", "\"a\\nb\""};
    for (size_t i = 0; i < CG__ARRAY_LEN(bad_names); i++) {
        char to[64];
        snprintf(to, sizeof to, "  %s: {", bad_names[i]);
        expect_load_error("varname.yaml", edit("  small: {", to), "varname.yaml:17:3: variant name");
    }
    static const char utf16[] = {'\xff', '\xfe', 'n', 0, 'a', 0};
    const char *u16 = write_exp("utf16.yaml", "");
    FILE *uf = fopen(u16, "wb");
    if (uf) {
        fwrite(utf16, 1, sizeof utf16, uf);
        fclose(uf);
    }
    cg_experiment ue;
    CHECK(cg_experiment_load(u16, NULL, NULL, 0, &ue) == CG_ERR_PARSE, "a UTF-16 file");
    CHECK_CONTAINS(cg_error_message(), "utf16.yaml:1:1: the file is UTF-16");
    u16 = write_exp("nul.yaml", "");
    if ((uf = fopen(u16, "wb"))) {
        fwrite("name: a\nx\0y", 1, 11, uf);
        fclose(uf);
    }
    CHECK(cg_experiment_load(u16, NULL, NULL, 0, &ue) == CG_ERR_PARSE, "a NUL byte");
    CHECK_CONTAINS(cg_error_message(), "nul.yaml:2:2: a NUL byte");
    expect_load_error("paper2.yaml", edit_text(text, "columns:", "metric: test/accuracy\n    columns:"),
                      "paper: takes columns: or metric: and values:, not both");
    /* until: stages (the fooling trials) */
    snprintf(text, sizeof text, "%s%s", base, "stages:\n  - name: fool\n    until: {threshold: 0.9}\n");
    expect_load_error("until1.yaml", text, "until: needs 'value:'");
    snprintf(text, sizeof text, "%s%s", base,
             "stages:\n  - name: fool\n    until: {value: logits, threshold: 0.9}\n"
             "    evaluate: {splits: [test]}\n");
    expect_load_error("until2.yaml", text, "a stage with until: does not evaluate");
    snprintf(text, sizeof text, "%s%s", base,
             "stages:\n  - name: fool\n    until: {value: logits, threshold: 0.9, images: x}\n");
    CHECK_OK(cg_experiment_load(write_exp("until3.yaml", text), NULL, NULL, 0, &e));
    CHECK(e.stages[0].has_until && e.stages[0].until_max_steps == 10000 &&
              e.stages[0].until_check_every == 10 && e.stages[0].n_sample_figures == 1,
          "until's defaults and its images figure");
    cg_dataset ud;
    cg_data_config uc = e.data.data;
    CHECK_OK(cg_data_generate("dae", &uc, &ud));
    st = cg_experiment_check_stage(&e, 0, &ud, NULL);
    CHECK(st == CG_ERR_PARSE, "an until value with several numbers per sample");
    CHECK_CONTAINS(cg_error_message(), "until3.yaml:20:12: until: 'logits' has several numbers "
                                       "per sample");
    cg_dataset_free(&ud);
    const char *no_eq[] = {"train.epochs"};
    st = cg_experiment_load(path, NULL, no_eq, 1, &e);
    CHECK(st == CG_ERR_INVALID_ARGUMENT, "--set without =");
    CHECK_CONTAINS(cg_error_message(), "write it as key=value");

    /* Build errors carry the node's place: an undefined value, a shape that does not fit. */
    CHECK_OK(cg_experiment_load(write_exp("undef.yaml", edit("input: x}", "input: img}")), NULL,
                                NULL, 0, &e));
    st = cg_experiment_check(&e, 0, cg_dataset_find(&d, "train"), 16, &eg);
    CHECK(st == CG_ERR_PARSE, "undefined value");
    CHECK_CONTAINS(cg_error_message(), "undef.yaml:11:11: 'logits' uses 'img', which is not "
                                       "defined before it; the values so far are: x, y");
    CHECK(strstr(cg_error_message(), "undef.yaml:11:11: /") == NULL &&
              strstr(strstr(cg_error_message(), "undef.yaml") + 1, "undef.yaml") == NULL,
          "the location is given once: %s", cg_error_message());
    CHECK_OK(cg_experiment_load(write_exp("shape.yaml", edit("    - flatten\n", "")), NULL, NULL,
                                0, &e));
    st = cg_experiment_check(&e, 0, cg_dataset_find(&d, "train"), 16, &eg);
    CHECK(st == CG_ERR_SHAPE, "linear on images");
    CHECK_CONTAINS(cg_error_message(), "shape.yaml:10:11: enc.fc1: linear: input of shape "
                                       "(16, 1, 28, 28)");
    /* As PyTorch users write a binary classifier: (N, 1) logits against (N) targets, and a
     * reshape of (N, 1) into (N). */
    static const char binary[] = "pipeline: siamese\n"
                                 "data: {train: 64, test: 32}\n"
                                 "model:\n  net: [flatten, {type: linear, out: 1}]\n"
                                 "graph:\n"
                                 "  logit: {module: net, input: x1}\n"
                                 "  flat: {type: reshape, inputs: [logit], shape: []}\n"
                                 "losses:\n"
                                 "  - {type: binary_cross_entropy, inputs: [logit, target]}\n"
                                 "  - {type: binary_cross_entropy, inputs: [flat, target]}\n"
                                 "train: {epochs: 1, batch: 16, split: pairs}\n";
    CHECK_OK(cg_experiment_load(write_exp("binary.yaml", binary), NULL, NULL, 0, &e));
    {
        cg_dataset pd;
        cg_data_config pc = e.data.data;
        CHECK_OK(cg_data_generate("siamese", &pc, &pd));
        CHECK_OK(cg_experiment_check_stage(&e, 0, &pd, NULL));
        cg_dataset_free(&pd);
    }
    /* A pooling window that does not fit says the stride it defaulted to (the window's). */
    CHECK_OK(cg_experiment_load(write_exp("pool.yaml", edit("    - flatten\n",
                                                           "    - {type: maxpool2d, kernel: 30}\n"
                                                           "    - flatten\n")),
                                NULL, NULL, 0, &e));
    st = cg_experiment_check(&e, 0, cg_dataset_find(&d, "train"), 16, &eg);
    CHECK(st == CG_ERR_SHAPE, "a window larger than the image");
    CHECK_CONTAINS(cg_error_message(), "a 30x30 window with stride 30x30 (the window's) does not "
                                       "fit a 28x28 input");

    /* Weights: save, load into a fresh graph, compare; then a mismatch is named. */
    cg_context *ctx = cgt_open(NULL);
    CHECK_OK(cg_experiment_load(path, NULL, NULL, 0, &e));
    cg_exp_graph a, b;
    CHECK_OK(cg_experiment_build(&e, 0, ctx, cg_dataset_find(&d, "train"), 16, 1, &a));
    CHECK_OK(cg_experiment_build(&e, 0, ctx, cg_dataset_find(&d, "train"), 16, 2, &b));
    char st_path[600];
    snprintf(st_path, sizeof st_path, "%s/w.safetensors", dir);
    const char *meta[] = {"format", "pt"};
    CHECK_OK(cg_safetensors_save(a.graph, st_path, meta, 2));
    size_t n = cg_graph_param_buffer_floats(a.graph);
    float *pa = calloc(n, 4), *pb = calloc(n, 4);
    CHECK_OK(cg_graph_read_params(b.graph, pb, false));
    CHECK_OK(cg_graph_read_params(a.graph, pa, false));
    CHECK(memcmp(pa, pb, n * 4) != 0, "two seeds initialise differently");
    CHECK_OK(cg_safetensors_load(b.graph, st_path));
    CHECK_OK(cg_graph_read_params(b.graph, pb, false));
    CHECK(memcmp(pa, pb, n * 4) == 0, "loaded weights equal the saved ones");
    FILE *f = fopen(st_path, "rb");
    unsigned char len[8];
    CHECK(fread(len, 1, 8, f) == 8, "header length");
    char header[2048] = "";
    size_t hl = len[0] | (size_t)len[1] << 8;
    CHECK(hl < sizeof header && fread(header, 1, hl, f) == hl, "header");
    fclose(f);
    CHECK(hl % 8 == 0, "the header is padded to 8 bytes");
    CHECK_CONTAINS(header, "\"enc.fc1.weight\":{\"dtype\":\"F32\",\"shape\":[16,784],"
                           "\"data_offsets\":[0,50176]}");
    CHECK_CONTAINS(header, "\"__metadata__\":{\"format\":\"pt\"}");
    cg_experiment small;
    CHECK_OK(cg_experiment_load(path, "small", NULL, 0, &small));
    cg_exp_graph s8;
    CHECK_OK(cg_experiment_build(&small, 0, ctx, cg_dataset_find(&d, "train"), 16, 1, &s8));
    st = cg_safetensors_load(s8.graph, st_path);
    CHECK(st == CG_ERR_SHAPE, "a mis-shaped tensor");
    CHECK_CONTAINS(cg_error_message(), "tensor 'enc.fc1.weight' has shape (16, 784) but the model "
                                       "needs (8, 784)");
    cg_exp_graph_free(&s8);
    cg_experiment renamed;
    const char *edited = edit("  enc:\n", "  net:\n");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", edited);
    char *m = strstr(buf, "module: enc");
    if (m)
        memcpy(m, "module: net", 11);
    char *t = strstr(buf, "tap: enc.fc1");
    if (t)
        memcpy(t, "tap: net.fc1", 12);
    CHECK_OK(cg_experiment_load(write_exp("renamed.yaml", buf), NULL, NULL, 0, &renamed));
    cg_exp_graph r;
    CHECK_OK(cg_experiment_build(&renamed, 0, ctx, cg_dataset_find(&d, "train"), 16, 1, &r));
    snprintf(st_path, sizeof st_path, "%s/w.safetensors", dir);
    st = cg_safetensors_load(r.graph, st_path);
    CHECK(st == CG_ERR_NOT_FOUND, "a missing tensor");
    CHECK_CONTAINS(cg_error_message(), "has no tensor 'net.fc1.weight' (shape (16, 784))");
    cg_exp_graph_free(&r);
    cg_exp_graph_free(&a);
    cg_exp_graph_free(&b);
    free(pa);
    free(pb);
    cg_dataset_free(&d);
    test_stages(ctx);
    cg_context_destroy(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
    return cgt_finish("test_experiment");
}
