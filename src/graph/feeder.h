/* The feeder: a split's arrays on the device, uploaded once, and the batch gather from an index
 * buffer into a graph's inputs, so nothing above the graph layer touches OpenCL. Also reading
 * values over a whole split: per-sample rows (an embedding, a score) collected on the device and
 * read back once per split (or per large chunk), not per batch. */
#ifndef CG_GRAPH_FEEDER_H
#define CG_GRAPH_FEEDER_H

#include "data/data.h"
#include "graph/graph.h"

typedef struct cg_feeder cg_feeder;

/* Uploads every array of the split (which must outlive the feeder). */
cg_status cg_feeder_create(cg_context *ctx, const cg_split *split, cg_feeder **out);
void cg_feeder_destroy(cg_feeder *f);

const cg_split *cg_feeder_split(const cg_feeder *f);

/* Feeds graph g from now on: each array of the split fills the graph input of the same name
 * where some node reads it; an array whose rows have another shape than that input is an error
 * naming both. (The graph is meant to be built on this split's arrays, as
 * cg_experiment_build_for does: an input no array fills is not fed.) */
cg_status cg_feeder_bind(cg_feeder *f, cg_graph *g);

/* The sample order: n indices into the split, uploaded once (an epoch's shuffle). NULL gives
 * every sample once in order, padded with the last one up to a whole batch. */
cg_status cg_feeder_order(cg_feeder *f, const int *index, int n);

/* Fills the bound graph's inputs with the samples order[off .. off + batch). */
cg_status cg_feeder_gather(cg_feeder *f, int off);

/* Runs the bound graph forward (evaluation mode) over every sample of the split once, the last
 * batch masked by its valid rows, and returns each value's rows for every sample:
 * out[k] (freed with free()) holds count x row floats, row = the value's elements per sample.
 * Metrics accumulate as a forward does; the accumulator is not reset here. */
cg_status cg_feeder_collect(cg_feeder *f, const int *values, int n_values, float **out);

/* The same over the first `first` samples only (all when first <= 0 or above the count); out[k]
 * then holds min(first, count) rows. */
cg_status cg_feeder_collect_first(cg_feeder *f, const int *values, int n_values, int first,
                                  float **out);

/* Every sample once, forward in evaluation mode, for the metrics (no values collected). */
cg_status cg_feeder_evaluate(cg_feeder *f);

#endif
