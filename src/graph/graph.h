/* The graph executor: a DAG of op nodes over values, built once, shape-checked as it is built,
 * then run forward and backward with autograd.
 *
 * As in DESIGN.md: every parameter lives in one flat device buffer and every parameter gradient
 * in another (zeroed with one fill); the optimizer is one kernel per contiguous range of
 * parameters with the same learning-rate scale. A layer used twice (weight sharing) is two nodes
 * pointing at one parameter slot, whose gradients add. Activation and gradient buffers are
 * planned once per graph as sub-buffers of two arenas; gradients reuse memory by liveness.
 * Nothing in a step waits for the host: losses and metrics are summed into a device
 * accumulator that is read back when the caller asks. */
#ifndef CG_GRAPH_H
#define CG_GRAPH_H

#include "ops/ops.h"

typedef struct cg_graph cg_graph;

/* Creates an empty graph on a context for a fixed batch size. ctx may be NULL for a graph that
 * is only built and shape-checked, never compiled (clgraph validate). */
cg_status cg_graph_create(cg_context *ctx, int batch, cg_graph **out);
void cg_graph_destroy(cg_graph *g);

/* An input fed from data each step: shape without the batch dim (e.g. (3, 32, 32)); the
 * value's shape gets the batch in front. Returns the value id through *out. */
cg_status cg_graph_input(cg_graph *g, const char *name, const cg_shape *sample_shape,
                         cg_dtype dtype, int *out);

/* A parameter slot, named as PyTorch would name it ("lenet.conv1.weight"); reuse the returned
 * slot id in several nodes to share it. init: CG_INIT_* below. fan_in sets the bound of the
 * default initialisations. */
enum { CG_INIT_KAIMING_UNIFORM, CG_INIT_BIAS_UNIFORM, CG_INIT_CONSTANT };
cg_status cg_graph_param(cg_graph *g, const char *name, const cg_shape *shape, int init,
                         int fan_in, float constant, int group, int *out);

/* Adds a node applying op to the input values, with the given parameter slots (which must
 * match the shapes the op's shape rule asks for). The output value id comes back in *out. */
cg_status cg_graph_node(cg_graph *g, const char *name, const cg_op_def *op,
                        const cg_op_attrs *attrs, const int *inputs, int n_inputs,
                        const int *params, int n_params, int *out);

/* Adds an op node and creates its parameter slots (named "<name>.weight" and "<name>.bias",
 * or "<name>.weight" alone for prelu), initialised as PyTorch does. param_slots (may be NULL)
 * receives the slots, *n_slots (may be NULL) how many there are. */
cg_status cg_graph_layer(cg_graph *g, const char *name, const cg_op_def *op,
                         const cg_op_attrs *attrs, const int *inputs, int n_inputs, int group,
                         int *out, int *param_slots, int *n_slots);

/* Marks a loss node's output: its per-sample values are reduced (mean as PyTorch reduces that
 * loss, or sum) and weighted into the total that backward differentiates. Each forward adds the
 * weighted loss to accumulator slot 0 and the unweighted reduced loss to *slot. */
cg_status cg_graph_loss(cg_graph *g, int value, float weight, cg_reduction reduction, int *slot);

/* Marks a value whose per-sample values are summed into accumulator *slot every forward. */
cg_status cg_graph_metric(cg_graph *g, int value, int *slot);

/* The same over the samples whose mask value (one per sample, int32 or float) is not zero: the
 * sum goes to *slot and the number of such samples to *count_slot, so the metric's mean is
 * their ratio (a NaN in a masked-out sample does not count). */
cg_status cg_graph_metric_masked(cg_graph *g, int value, int mask, int *slot, int *count_slot);

/* Allocates parameters (initialised from seed), gradients, activations and the accumulator.
 * After this, no more nodes. */
cg_status cg_graph_compile(cg_graph *g, uint64_t seed);

/* The device buffer of a value (an input to fill, an output to read). */
cl_mem cg_graph_value_mem(const cg_graph *g, int value);
cg_shape cg_graph_value_shape(const cg_graph *g, int value);

/* Whether any node reads the value (an input the model ignores need not be fed). */
bool cg_graph_value_used(const cg_graph *g, int value);

/* Only the first `rows` samples of the batch count in losses and metrics (a last, partial
 * batch of an evaluation); 0 means all. */
void cg_graph_set_valid_rows(cg_graph *g, int rows);

/* One forward pass; training enables dropout and noise. */
cg_status cg_graph_forward(cg_graph *g, bool training);

/* Zeroes the gradients, seeds every loss with its weight and runs the backward pass. Backward
 * differentiates each node's latest forward: its mode (training or not) and its random draws
 * are kept per node, so an evaluation forward in between changes neither. */
cg_status cg_graph_backward(cg_graph *g);

/* Forward passes of a forward-only graph from now on run only the nodes that these values and
 * the losses and metrics need (an evaluation that reads one score skips the rest), until
 * cg_graph_run_all. */
cg_status cg_graph_run_only(cg_graph *g, const int *values, int n_values);
void cg_graph_run_all(cg_graph *g);

/* Makes the graph forward-only, before compiling: no gradient buffers (an evaluation graph
 * needs none); backward fails. */
cg_status cg_graph_set_inference(cg_graph *g);

/* Asks for the gradient of a value (an input, such as the images, or any other value) with
 * respect to whatever backward starts from; before cg_graph_compile. Read it with
 * cg_graph_read_grad. */
cg_status cg_graph_require_grad(cg_graph *g, int value);

/* Backward from any float value instead of the losses: its gradient is seeded with seed (the
 * value's shape, host memory; NULL seeds every element with 1) and the backward pass runs
 * through every node between it and the trainable parameters or the values that require a
 * gradient. Parameter gradients are zeroed first and filled, so cg_graph_step can follow
 * (the dAE study's fooling generator: a group trained in front of a frozen network). */
cg_status cg_graph_backward_from(cg_graph *g, int value, const float *seed);

/* A value's gradient buffer (NULL when it has none), and host copies of a value and its
 * gradient (the whole batch; waits). */
cl_mem cg_graph_grad_mem(const cg_graph *g, int value);
cg_status cg_graph_read_value(cg_graph *g, int value, float *host);
cg_status cg_graph_read_grad(cg_graph *g, int value, float *host);

/* The input of this name, or -1. */
int cg_graph_find_input(const cg_graph *g, const char *name);
int cg_graph_batch(const cg_graph *g);
cg_context *cg_graph_context(const cg_graph *g);

/* A training loop that stops on a device-side condition: each step runs forward (in training
 * mode or not), notes every sample whose condition value (one float per sample) reached
 * threshold for the first time, then backward and an optimizer step. The notes are read every
 * check_every steps (not every step); the loop ends when every sample's condition has held or
 * after max_steps updates. first_step (batch entries) receives, per sample, how many updates had
 * been made when its condition first held (-1: never); *steps_run the updates made. */
typedef struct cg_until {
    int condition;
    float threshold;
    int check_every, max_steps;
    bool training;
    const cg_optim_config *optimizer;
} cg_until;
cg_status cg_graph_train_until(cg_graph *g, const cg_until *u, int *first_step, int *steps_run);

/* Sets a group's learning-rate scale (0 freezes it: no gradient work, no optimizer launch). */
cg_status cg_graph_set_lr_scale(cg_graph *g, int group, float scale);

/* One optimizer step over the unfrozen parameters. */
cg_status cg_graph_step(cg_graph *g, const cg_optim_config *opt);

/* A training step: forward in training mode, backward from the losses, an optimizer step: the
 * three calls above, except that where the device offers command buffers (CLGRAPH_REPLAY) the
 * step is recorded once and later steps whose launches are the same run as one enqueue of the
 * recording (src/device/replay.c). The results are the same either way. */
cg_status cg_graph_train_step(cg_graph *g, const cg_optim_config *opt);

/* How the training steps ran: recorded, replayed, missed (all 0 where steps do not replay). */
cg_replay_stats cg_graph_replay_stats(const cg_graph *g);

/* What a training graph carries from step to step besides its parameters, for a checkpoint:
 * the optimizer's state (opt_floats numbers, 0 before the first step), the step count, the
 * random-number counter and the metric accumulator (CG_GRAPH_ACC_SLOTS numbers). */
typedef struct cg_graph_train_state {
    uint64_t step;
    uint32_t launch;
    size_t opt_floats;
    float *opt;  /* opt_floats + 1 numbers, malloc'ed by cg_graph_read_train_state */
    float acc[32];
} cg_graph_train_state;

cg_status cg_graph_read_train_state(cg_graph *g, cg_graph_train_state *s);
/* Sets it back (the optimizer of that kind: its state is made if the graph has none yet). */
cg_status cg_graph_write_train_state(cg_graph *g, const cg_optim_config *opt,
                                     const cg_graph_train_state *s);

/* The accumulator: slot 0 the weighted loss total, slots 1.. the metrics. Reading waits for the
 * device; reset zeroes it. */
cg_status cg_graph_read_accumulator(cg_graph *g, float *out, int n);
cg_status cg_graph_reset_accumulator(cg_graph *g);

/* The flat parameter and gradient buffers and the slots' places in them. */
typedef struct cg_param_info {
    const char *name;
    cg_shape shape;
    size_t offset; /* in floats */
    int group;
} cg_param_info;
int cg_graph_param_count(const cg_graph *g);
cg_param_info cg_graph_param_at(const cg_graph *g, int slot);
size_t cg_graph_param_floats(const cg_graph *g); /* the real parameters, without padding */
/* The length of the flat buffers, padding between slots included: host copies for
 * cg_graph_read_params and cg_graph_write_params hold this many floats. */
size_t cg_graph_param_buffer_floats(const cg_graph *g);
cg_status cg_graph_read_params(cg_graph *g, float *host, bool gradients);
cg_status cg_graph_write_params(cg_graph *g, const float *host);

/* The nodes, for the layer table: name, op, output shape, and the parameters the node's own
 * slots hold (0 for a node that shares slots made earlier). */
typedef struct cg_node_info {
    const char *name;
    const char *op;
    cg_shape out;
    size_t new_params;
} cg_node_info;
int cg_graph_node_count(const cg_graph *g);
cg_node_info cg_graph_node_at(const cg_graph *g, int index);

/* The largest number of values in a graph; enough for the seed models many times over. */
#define CG_GRAPH_MAX_VALUES 512
#define CG_GRAPH_MAX_PARAMS 256
#define CG_GRAPH_ACC_SLOTS 32

#endif
