/* Statistics for reports: summaries over repeats (mean, standard deviation, 95% interval by
 * Student's t), Welch's t-test, ROC curves and their area, quantile thresholds, and precision,
 * recall and F-measure. Everything is double precision on the host. */
#ifndef CG_REPORT_STATS_H
#define CG_REPORT_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Below this many values a summary gives no confidence interval: with two, Student's t is 12.7
 * and the interval is wider than the scale of any accuracy. */
#define CG_STATS_MIN_CI 3

typedef struct cg_summary {
    int n;       /* finite values summarised (NaN values are left out) */
    double mean; /* NaN when n = 0 */
    double sd;   /* sample standard deviation (n - 1); NaN when n < 2 */
    double ci95; /* half-width of the 95% interval, t(0.975, n - 1) * sd / sqrt(n); NaN when
                    n < CG_STATS_MIN_CI */
} cg_summary;

cg_summary cg_stats_summary(const double *v, int n);

/* The CDF of Student's t with df degrees of freedom (df > 0, not necessarily whole). */
double cg_stats_t_cdf(double t, double df);

/* The p-quantile of Student's t (0 < p < 1). */
double cg_stats_t_quantile(double p, double df);

/* Welch's two-sample t-test (unequal variances): the statistic, the Welch-Satterthwaite degrees
 * of freedom and the two-sided p-value. Needs at least two values in each sample; otherwise, or
 * when both variances are 0 and the means are equal, every output is NaN (and p is 0 when the
 * variances are 0 but the means differ). Returns p. */
double cg_stats_welch(const double *a, int na, const double *b, int nb, double *t, double *df);

/* The regularised incomplete beta function I_x(a, b). */
double cg_stats_betai(double a, double b, double x);

/* A ROC curve of scores where a higher score means "positive": one point per distinct score
 * (ties move both rates at once), from (0, 0) to (1, 1). fpr and tpr need n + 1 entries; the
 * number of points comes back. The area under it (trapezoids, so ties count a half, as the
 * Mann-Whitney statistic does) goes to *auc; NaN when either class is empty. */
int cg_stats_roc(const double *score, const bool *positive, int n, double *fpr, double *tpr,
                 double *auc);

/* The q-quantile (0 <= q <= 1) of n values with linear interpolation between order statistics
 * (NumPy's default); the values are not changed. NaN for n = 0. */
double cg_stats_quantile(const double *v, int n, double q);

/* The negative importance-weighted bound from k draws' negative log weights v (each
 * -log p(x, z) + log q(z | x) of one draw z ~ q): -log((1/k) sum exp(-v)), computed against the
 * smallest v so that large values do not underflow. With k = 1 it is v: the negative ELBO of
 * that draw. NaN for k < 1. */
double cg_stats_importance_bound(const double *v, int k);

/* Precision, recall and the F-measure (F_beta; beta 1 gives F1) of predictions against truth.
 * An empty denominator gives 0, as scikit-learn's zero_division=0. */
typedef struct cg_prf {
    long tp, fp, fn, tn;
    double precision, recall, f;
} cg_prf;
cg_prf cg_stats_prf(const bool *predicted, const bool *truth, int n, double beta);

/* ---- the geometry of an embedding: points are rows of dim numbers, labels integers ---- */

/* The share of the n query points whose k nearest reference points (Euclidean) vote for the
 * query's own label (majority; a tie goes to the label of the nearest of the tied). With
 * leave_self_out the query set is the reference set and a point is not its own neighbour.
 * NaN when there are no queries or fewer references than k. */
double cg_stats_knn_accuracy(const double *ref, const int *ref_label, int n_ref,
                             const double *q, const int *q_label, int n, int dim, int k,
                             bool leave_self_out);

/* How well one straight boundary separates the two labels: the points are projected on
 * Fisher's discriminant direction (the pooled within-class scatter, lightly regularised, solved
 * against the difference of the class means) and the best threshold on that line is taken; the
 * share of points it puts on their own side comes back (0.5 to 1). NaN unless there are exactly
 * two labels. */
double cg_stats_linear_separability(const double *x, const int *label, int n, int dim);

/* The share of the n points nearer the centroid of another label than their own, the centroids
 * being the reference points' per-label means. A point whose label the reference lacks counts
 * as stray. NaN for n = 0 or an empty reference. */
double cg_stats_stray(const double *ref, const int *ref_label, int n_ref, const double *x,
                      const int *label, int n, int dim);

/* The mean silhouette of n points in groups: s(i) = (b - a) / max(a, b) with a the mean distance
 * to the rest of i's group and b the smallest mean distance to another group; a point alone in
 * its group scores 0. NaN with fewer than two groups. */
double cg_stats_silhouette(const double *x, const int *group, int n, int dim);

#endif
