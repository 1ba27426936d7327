/* An experiment descriptor, read from YAML: the data (data_section.h), the model's modules, the
 * graph that applies them, the losses, the optimizer, the training and evaluation settings, and
 * named variants (ablations) given as dotted-key overrides. The schema, with an example per key,
 * is in experiments/README.md. */
#ifndef CG_EXP_EXPERIMENT_H
#define CG_EXP_EXPERIMENT_H

#include "exp/data_section.h"
#include "graph/graph.h"

#define CG_EXP_NAME 48
#define CG_EXP_MAX_LAYERS 32
#define CG_EXP_MAX_MODULES 8
#define CG_EXP_MAX_NODES 32
#define CG_EXP_MAX_LOSSES 8
#define CG_EXP_MAX_METRICS 8
#define CG_EXP_MAX_VARIANTS 64
#define CG_EXP_MAX_REPEATS 1000
#define CG_EXP_MAX_COLLECT 12
#define CG_EXP_MAX_FIGURES 8

typedef struct cg_exp_layer {
    char name[CG_EXP_NAME]; /* given, or the layer's index as PyTorch's Sequential names it */
    const cg_op_def *op;
    cg_op_attrs attrs;
} cg_exp_layer;

typedef struct cg_exp_module {
    char name[CG_EXP_NAME];
    bool share; /* applying it again reuses its parameters (default true) */
    int n_layers;
    cg_exp_layer layers[CG_EXP_MAX_LAYERS];
} cg_exp_module;

typedef enum cg_exp_node_kind { CG_EXP_APPLY, CG_EXP_OP, CG_EXP_TAP } cg_exp_node_kind;

/* One named value of the graph: a module applied to an input, an op on inputs, or a tap on a
 * named inner layer of an applied module ("lenet.fc2"). Losses and metrics are nodes too. */
typedef struct cg_exp_node {
    char name[CG_EXP_NAME];
    cg_exp_node_kind kind;
    int module;       /* CG_EXP_APPLY */
    cg_exp_layer op;  /* CG_EXP_OP */
    char tap[2 * CG_EXP_NAME];
    int n_in;
    char inputs[CG_MAX_INPUTS][CG_EXP_NAME];
    char mask[CG_EXP_NAME]; /* a metric's mask: only samples where this value is not 0 count */
    int line, col;
} cg_exp_node;

typedef struct cg_exp_loss {
    cg_exp_node node;
    float weight;
    cg_reduction reduction;
} cg_exp_loss;

#define CG_EXP_MAX_STAGES 4

/* A statistic or a figure of the values collected per sample over an evaluation split.
 * Statistics (recorded as metrics of the split at the stage's last epoch): auc (score, label:
 * the ROC area of score with label != 0 as the positive class), mean (value, over the samples
 * where mask is not 0 when given), quantile (value, q); of an embedding (value: several numbers
 * per sample, label: an integer array): knn_accuracy (k nearest points of the reference split
 * vote), linear_separability (Fisher's discriminant, the best threshold), stray (the share
 * nearer another label's centroid of the reference split), silhouette (the listed splits as
 * groups, within each label; recorded on the first of them); mean_abs_error (value, truth: the
 * mean of |value - truth|, such as an estimate against the exact number); f_measure (score:
 * scores per class, label, known: 1 where the label is a known class, threshold: open-set
 * recognition's F1, a sample accepted as its argmax class when that score passes threshold);
 * openness (label, known: 1 - sqrt(known classes / classes) of the split's labels). Figures (of
 * the first repeat):
 * scatter (x: a value of two numbers per sample, colour: an integer array or value; one per
 * split, or one of the listed splits with a marker per split),
 * histogram (value, groups: an integer array splitting the samples in two; one per split),
 * roc (score, label; one curve per split), heatmap (value, at: the two coordinates of each
 * sample on a regular grid; one per split), images (values: up to 4 values that are images,
 * such as the inputs, their reconstructions and samples from the prior, a row each over the
 * first `count` samples of each split; a PNG; the values need not be collected). */
typedef struct cg_exp_sample_item {
    char type[24];
    char name[CG_EXP_NAME];
    char value[CG_EXP_NAME]; /* score / value / x */
    char by[CG_EXP_NAME];    /* label / mask / colour / groups / at / truth; "" for none */
    char known[CG_EXP_NAME]; /* f_measure: 1 where the label is a known class; "" all are */
    double threshold;        /* f_measure: the score a sample must pass to be accepted */
    char split[24];          /* only this evaluation split; "" for every one */
    char reference[24];      /* knn_accuracy, stray: the split whose points are the reference */
    int n_splits;            /* silhouette (the groups) and scatter (one figure): these splits */
    char splits[CG_MAX_SPLITS][24];
    double q;
    int k; /* knn_accuracy: neighbours (5) */
    int n_values; /* images: the values drawn, one row each, and the samples (columns) */
    char values[4][CG_EXP_NAME];
    int count;
    int value_line, value_col; /* where the value is named */
    int line, col;
} cg_exp_sample_item;

#define CG_EXP_MAX_SAMPLE_ITEMS 8

/* How a value collected over several passes combines its draws per sample: their mean, or, for
 * v the negative log importance weight of one draw (-log p(x, z) + log q(z | x)), the negative
 * importance-weighted bound -log(mean(exp(-v))) (with one draw, the negative ELBO). */
enum { CG_COMBINE_MEAN, CG_COMBINE_IMPORTANCE };

/* One training stage: its split, its own graph nodes (after the experiment's shared ones), its
 * losses, evaluation, optimizer, epochs and frozen modules. An experiment without `stages:` has
 * one stage made of its top-level keys. */
typedef struct cg_exp_stage {
    char name[CG_EXP_NAME];
    char split[24];
    int split_line, split_col; /* where the split is named (0: the default) */
    int n_nodes;
    cg_exp_node nodes[CG_EXP_MAX_NODES];
    int n_losses;
    cg_exp_loss losses[CG_EXP_MAX_LOSSES];
    int n_metrics;
    cg_exp_node metrics[CG_EXP_MAX_METRICS];
    int n_eval_splits;
    char eval_splits[CG_MAX_SPLITS][24];
    int eval_split_line[CG_MAX_SPLITS], eval_split_col[CG_MAX_SPLITS];
    int n_collect; /* values read per sample over each evaluation split at the stage's end */
    char collect[CG_EXP_MAX_COLLECT][CG_EXP_NAME];       /* the names they are recorded as */
    char collect_value[CG_EXP_MAX_COLLECT][CG_EXP_NAME]; /* the graph values they read */
    /* Per collected value: the passes over the split (fresh random draws each), and how the
     * draws combine per sample (CG_COMBINE_*). */
    int collect_draws[CG_EXP_MAX_COLLECT];
    int collect_combine[CG_EXP_MAX_COLLECT];
    char collect_file[CG_EXP_NAME]; /* samples/<variant>-r<k>-<file>-<split>.csv; "" the stage */
    int collect_line, collect_col;
    int n_statistics, n_sample_figures;
    cg_exp_sample_item statistics[CG_EXP_MAX_SAMPLE_ITEMS];
    cg_exp_sample_item sample_figures[CG_EXP_MAX_SAMPLE_ITEMS];
    cg_optim_config optimizer;
    int epochs; /* 0: no training, evaluation only */
    int eval_every; /* evaluate after every this many epochs (and the last); 0 or 1: each */
    int eval_batch; /* the evaluation graphs' batch; 0: the stage's (ops such as similarity
                       see a batch at a time, so it changes what they compute) */
    int batch;  /* 0: the experiment's train.batch */
    int n_freeze;
    int freeze[CG_EXP_MAX_MODULES]; /* module indices */
    /* until: instead of epochs, the whole split is one batch trained until each sample's value
     * (one number per sample) has reached threshold, or max_steps updates (the fooling trials);
     * read every check_every updates. */
    bool has_until;
    char until_value[CG_EXP_NAME];
    float until_threshold;
    int until_max_steps, until_check_every;
    int until_line, until_col;
} cg_exp_stage;

/* A figure of the report: the per-epoch curves of one metric on some evaluation splits (line
 * style per split), one colour per variant, mean and 95% band over the repeats (epochs); or a
 * box plot of the metric's final values over the repeats, a box per variant and split (box); or,
 * with a sweep, the metric against another over the sweep's values (sweep). */
typedef struct cg_exp_figure {
    char type[16]; /* epochs | box | sweep */
    /* sweep: the metric (of the first split) against this one, a line per base variant over
     * the sweep's values, equal x averaged */
    char x[CG_EXP_NAME];
    char title[160];
    char metric[CG_EXP_NAME];
    /* epochs: further metrics, each split's curve showing the first one it has (the training
     * split's loss beside the held-out splits' negative ELBO) */
    int n_more;
    char more[3][CG_EXP_NAME];
    int n_splits;
    char splits[4][24];
    int n_variants; /* 0: every variant */
    char variants[CG_EXP_MAX_VARIANTS][CG_EXP_NAME];
} cg_exp_figure;

/* The `report:` section: the variant the others are tested against (Welch's t-test at the final
 * epoch; default: the first), or per variant its own reference, and the figures (default: the
 * pipeline's). */
#define CG_EXP_MAX_PAPER_COLS 8
typedef struct cg_exp_paper_col {
    char metric[2 * CG_EXP_NAME];
    int n;
    char variant[CG_EXP_MAX_VARIANTS][CG_EXP_NAME], value[CG_EXP_MAX_VARIANTS][64];
} cg_exp_paper_col;

typedef struct cg_exp_report {
    char reference[CG_EXP_NAME];
    int n_pairs; /* reference: {variant: its reference, ...} */
    char pair_variant[CG_EXP_MAX_VARIANTS][CG_EXP_NAME], pair_reference[CG_EXP_MAX_VARIANTS][CG_EXP_NAME];
    int n_figures;
    cg_exp_figure figures[CG_EXP_MAX_FIGURES];
    /* The original study's numbers, a column per metric ("split/metric") with a value per
     * variant as the paper writes them, shown beside ours; the first column's also with our
     * relative performance against the reference. */
    char paper_source[200];
    int n_paper_cols;
    cg_exp_paper_col paper[CG_EXP_MAX_PAPER_COLS];
} cg_exp_report;

typedef struct cg_experiment {
    cg_exp_data data; /* name, pipeline, seed, data */
    char file[1024];
    int repeats;
    char device[128];
    char init[1024]; /* a .safetensors file to start from */
    int n_modules;
    cg_exp_module modules[CG_EXP_MAX_MODULES];
    int n_nodes; /* the graph shared by every stage */
    cg_exp_node nodes[CG_EXP_MAX_NODES];
    int batch, log_interval;
    int n_stages;
    bool staged; /* the file has `stages:` (else one stage made of the top-level keys) */
    cg_exp_stage stages[CG_EXP_MAX_STAGES];
    int n_variants; /* what runs: the variants, or with a sweep each variant at each value */
    char variants[CG_EXP_MAX_VARIANTS][CG_EXP_NAME];
    char variant[CG_EXP_NAME]; /* the variant this descriptor was read with, "" for the base */
    /* sweep: {key: a dotted key, values: {name: value, ...}}: every variant runs once per
     * value, as <variant>_<name> (as <name> without variants). bases are the file's variants. */
    char sweep_key[128];
    int n_sweep, n_bases;
    char sweep[CG_EXP_MAX_VARIANTS][CG_EXP_NAME];
    char bases[CG_EXP_MAX_VARIANTS][CG_EXP_NAME];
    cg_exp_report report;
} cg_experiment;

/* A stage's batch size (its own, else the experiment's). */
int cg_exp_stage_batch(const cg_experiment *e, int stage);
/* The same on a split: an until stage's batch is the whole split. */
int cg_exp_stage_batch_on(const cg_experiment *e, int stage, const cg_split *split);

/* Reads an experiment; with variant not NULL, applies that variant's overrides first, then the
 * `--set key=value` overrides. Every error carries file:line:col. */
cg_status cg_experiment_load(const char *path, const char *variant, const char *const *sets,
                             int n_sets, cg_experiment *out);

/* Writes the descriptor as it is after a variant's and --set's overrides, as YAML, after the
 * comment lines of header (may be NULL; each line is written behind "# "). */
cg_status cg_experiment_write_resolved(const char *path, const char *variant,
                                       const char *const *sets, int n_sets, const char *header,
                                       const char *out_path);

/* Builds a stage's graph for a batch size on the arrays of a split (each array of the split is
 * an input named after it), and compiles it with seed. Parameter names follow PyTorch:
 * "<module>.<layer>.weight"; module i's parameters form group i, so freezing a module is
 * setting its group's learning-rate scale to 0 (done here for the stage's freeze list). */
typedef struct cg_exp_named cg_exp_named;

typedef struct cg_exp_graph {
    cg_graph *graph;
    int inputs[CG_MAX_ARRAYS]; /* value id per array of the split, -1 when unused */
    int loss_slots[CG_EXP_MAX_LOSSES];
    /* Per metric of the stage: whether this split could compute it, its slot and (masked) the
     * slot counting its samples, else -1. */
    bool metric_built[CG_EXP_MAX_METRICS];
    int metric_slots[CG_EXP_MAX_METRICS], metric_count_slots[CG_EXP_MAX_METRICS];
    /* Per collected value: its value id, -1 when this split cannot compute it. */
    int collect[CG_EXP_MAX_COLLECT];
    int groups; /* one parameter group per module, and one for op nodes' parameters */
    cg_exp_named *names; /* every named value, for cg_exp_graph_value */
    int n_names;
} cg_exp_graph;

cg_status cg_experiment_build(const cg_experiment *e, int stage, cg_context *ctx,
                              const cg_split *split, int batch, uint64_t seed, cg_exp_graph *out);

/* How a graph is built for a split. With data, a node whose input is an array of another split
 * (or a node left out for that reason) is left out of this split's graph: a pairs-trained
 * embedding still evaluates on single images. Without it, every name must resolve. A training
 * graph needs every loss; an evaluation graph has no losses, and the metrics and collected values
 * this split cannot compute are marked unbuilt. */
typedef struct cg_exp_build {
    const cg_dataset *data;
    bool eval;
    bool compile; /* false: shapes only, no device (clgraph validate) */
} cg_exp_build;

cg_status cg_experiment_build_for(const cg_experiment *e, int stage, cg_context *ctx,
                                  const cg_split *split, int batch, uint64_t seed,
                                  const cg_exp_build *how, cg_exp_graph *out);

/* The same without a device and without compiling: shapes only (for clgraph validate). */
cg_status cg_experiment_check(const cg_experiment *e, int stage, const cg_split *split, int batch,
                              cg_exp_graph *out);

/* The value a name (graph node, NODE.LAYER, input array) stands for in a built graph, or -1. */
int cg_exp_graph_value(const cg_exp_graph *g, const char *name);

/* Checks the labels a loss or metric of the stage reads straight from a split's array against
 * the classes it scores (the output width): a training loss needs every label in [0, classes);
 * a metric refuses labels past the last class (negative labels count as wrong, and a mask can
 * leave them out). The error names the file, line and column, the split, array, sample and
 * label. */
cg_status cg_experiment_check_labels(const cg_experiment *e, int stage, const cg_exp_graph *g,
                                     const cg_split *split, bool training);

/* Checks a stage against the data without a device: its splits exist, its training graph
 * builds with every loss, each evaluation split's graph builds, every metric and collected
 * value is computed on at least one evaluation split, and the labels fit the outputs. With
 * train_out, the training graph (shapes only) is handed back for its layer table. */
cg_status cg_experiment_check_stage(const cg_experiment *e, int stage, const cg_dataset *data,
                                    cg_exp_graph *train_out);

/* Whether a value's shape holds an image per sample, and its channels, height and width:
 * (N, C, H, W) with 1 or 3 channels, or (N, F) with F a square (a flattened grey image). */
bool cg_exp_image_shape(cg_shape s, int *c, int *h, int *w);

void cg_exp_graph_free(cg_exp_graph *g);

#endif
