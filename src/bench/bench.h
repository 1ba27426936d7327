/* The benchmark behind `clgraph bench` and `clgraph tune`: the device's roofline (multiply-add
 * throughput and copy bandwidth), the seed models' training steps timed end to end, and every
 * kernel launch of a step timed with OpenCL profiling events (median of repeated steps after
 * warm-up), at the shapes the models use. */
#ifndef CG_BENCH_H
#define CG_BENCH_H

#include <stdio.h>

#include "clgraph/clgraph.h"

/* The device's measured ceilings. */
typedef struct cg_bench_peak {
    double gflops; /* multiply-add throughput, GFLOP/s */
    double gbps;   /* copy bandwidth, GB/s (bytes read plus bytes written) */
} cg_bench_peak;

/* Measures both on a context whose queue profiles (medians of 5 runs after warm-up). */
cg_status cg_bench_peak_measure(cg_context *ctx, cg_bench_peak *out);

/* One seed model built from its experiment file for one batch size, with a batch of its own
 * data on the device, ready to train. */
typedef struct cg_bench_model cg_bench_model;

cg_status cg_bench_model_open(cg_context *ctx, const char *yaml, int batch, cg_bench_model **out);
void cg_bench_model_close(cg_bench_model *m);
const char *cg_bench_model_name(const cg_bench_model *m); /* the file's name, "lenet" */
size_t cg_bench_model_params(const cg_bench_model *m);
/* How its training steps ran: recorded, replayed (where steps replay; CLGRAPH_REPLAY). */
cg_replay_stats cg_bench_model_replay(const cg_bench_model *m);
/* Its graph, for checks. */
struct cg_graph *cg_bench_model_graph(cg_bench_model *m);

/* One training step: forward, backward, optimizer (nothing waits for the device). */
cg_status cg_bench_model_step(cg_bench_model *m);

/* One training step with the profiler p attached (device_internal.h), waited for: p holds the
 * step's launches. */
struct cg__profiler;
cg_status cg_bench_model_step_recorded(cg_bench_model *m, struct cg__profiler *p);

/* Wall time of one step in ms: `warmup` steps, then `steps` steps ended by reading the loss
 * (as the PyTorch peer ends with loss.item()). */
cg_status cg_bench_model_time(cg_bench_model *m, int warmup, int steps, double *step_ms);

/* One launch of a training step, timed. */
typedef struct cg_bench_launch {
    char label[80]; /* "lenet.0 forward", "optimizer" */
    char kernel[48];
    size_t items;
    double us;    /* median device time */
    double flops; /* 0 where not known */
    double bytes;
} cg_bench_launch;

/* Times every launch of one step over `repeats` steps after one more warm-up step (the
 * context's queue must profile): the launches in step order with their median times. *out is
 * freed with free(). */
cg_status cg_bench_model_profile(cg_bench_model *m, int repeats, cg_bench_launch **out, int *n);

/* The fraction of the roofline a launch reaches: the larger of its FLOP/s over the peak and its
 * bytes/s over the bandwidth. */
double cg_bench_fraction(const cg_bench_launch *l, const cg_bench_peak *peak);

/* One op case (ops.h) timed pass by pass: forward, and backward where the op has one. */
struct cg_op_case;
typedef struct cg_bench_op {
    int launches[2]; /* forward, backward */
    double us[2];    /* the median over the runs of the pass's summed device time */
    double flops[2]; /* 0 where the launchers do not say */
    double bytes[2];
    char kernels[2][120]; /* the kernels the pass launched, in order, space-separated */
} cg_bench_op;

/* Runs the case once to warm up, then `repeats` times with profiling (the context's queue must
 * profile), on inputs drawn as the case says. */
cg_status cg_bench_op_time(cg_context *ctx, const struct cg_op_case *c, int repeats,
                           cg_bench_op *out);

/* Measures CLBlast's direct GEMM parameters per GEMM shape, the convolution algorithm per conv2d
 * shape and pass, the im2col work per work-item and the 1-D work-group size on the given model
 * files and batch sizes (the context's queue must profile), and writes the device's tuning file
 * next to the kernel cache. Progress and the choices go to
 * progress (may be NULL). */
cg_status cg_bench_tune(cg_context *ctx, char (*files)[1024], int n_files, const int *batches,
                        int n_batches, int repeats, FILE *progress);

#endif
