/* Statistics for reports (see stats.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/stats.h"

cg_summary cg_stats_summary(const double *v, int n) {
    cg_summary s = {0, NAN, NAN, NAN};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            sum += v[i];
            s.n++;
        }
    if (s.n == 0)
        return s;
    s.mean = sum / s.n;
    if (s.n < 2)
        return s;
    double q = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            q += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = sqrt(q / (s.n - 1));
    if (s.n >= CG_STATS_MIN_CI)
        s.ci95 = cg_stats_t_quantile(0.975, s.n - 1) * s.sd / sqrt((double)s.n);
    return s;
}

/* The continued fraction of the incomplete beta function, evaluated by the modified Lentz
 * method; converges quickly for x < (a + 1) / (a + b + 2). */
static double beta_fraction(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = 1 / (fabs(d) < tiny ? tiny : d);
    double f = d;
    for (int m = 1; m <= 500; m++) {
        for (int odd = 0; odd < 2; odd++) {
            double num = odd ? -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
                             : m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
            d = 1 + num * d;
            d = 1 / (fabs(d) < tiny ? tiny : d);
            c = 1 + num / c;
            c = fabs(c) < tiny ? tiny : c;
            f *= c * d;
            if (odd && fabs(c * d - 1) < 1e-15)
                return f;
        }
    }
    return f;
}

double cg_stats_betai(double a, double b, double x) {
    if (!(x > 0))
        return 0;
    if (!(x < 1))
        return 1;
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_fraction(a, b, x) / a;
    return 1 - front * beta_fraction(b, a, 1 - x) / b;
}

double cg_stats_t_cdf(double t, double df) {
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1 : 0;
    double tail = 0.5 * cg_stats_betai(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t > 0 ? 1 - tail : tail;
}

double cg_stats_t_quantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p < 0.5)
        return -cg_stats_t_quantile(1 - p, df);
    /* Bisection on the CDF: grow the bracket, then halve it to double precision. */
    double lo = 0, hi = 1;
    while (cg_stats_t_cdf(hi, df) < p && hi < 1e12)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-13 * (hi > 1 ? hi : 1); i++) {
        double mid = 0.5 * (lo + hi);
        if (cg_stats_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double cg_stats_welch(const double *a, int na, const double *b, int nb, double *t, double *df) {
    cg_summary sa = cg_stats_summary(a, na), sb = cg_stats_summary(b, nb);
    double tt = NAN, dd = NAN, p = NAN;
    if (sa.n >= 2 && sb.n >= 2) {
        double va = sa.sd * sa.sd / sa.n, vb = sb.sd * sb.sd / sb.n;
        if (va + vb > 0) {
            tt = (sa.mean - sb.mean) / sqrt(va + vb);
            dd = (va + vb) * (va + vb) /
                 (va * va / (sa.n - 1) + vb * vb / (sb.n - 1));
            p = 2 * (1 - cg_stats_t_cdf(fabs(tt), dd));
            if (p < 0)
                p = 0;
        } else if (sa.mean != sb.mean) {
            tt = sa.mean > sb.mean ? INFINITY : -INFINITY;
            p = 0;
        }
    }
    if (t)
        *t = tt;
    if (df)
        *df = dd;
    return p;
}

typedef struct scored {
    double score;
    bool positive;
} scored;

static int by_score_desc(const void *pa, const void *pb) {
    double a = ((const scored *)pa)->score, b = ((const scored *)pb)->score;
    return a > b ? -1 : a < b ? 1 : 0;
}

int cg_stats_roc(const double *score, const bool *positive, int n, double *fpr, double *tpr,
                 double *auc) {
    scored *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    long pos = 0, neg = 0;
    int m = 0;
    for (int i = 0; s && i < n; i++) {
        if (isnan(score[i]))
            continue;
        s[m].score = score[i];
        s[m].positive = positive[i];
        pos += positive[i];
        neg += !positive[i];
        m++;
    }
    *auc = NAN;
    fpr[0] = tpr[0] = 0;
    if (!s || pos == 0 || neg == 0) {
        free(s);
        fpr[1] = tpr[1] = 1;
        return 2;
    }
    qsort(s, (size_t)m, sizeof *s, by_score_desc);
    int points = 1;
    long tp = 0, fp = 0;
    double area = 0;
    for (int i = 0; i < m;) {
        /* Every sample of one score crosses the threshold together. */
        int j = i;
        long dtp = 0, dfp = 0;
        while (j < m && s[j].score == s[i].score) {
            dtp += s[j].positive;
            dfp += !s[j].positive;
            j++;
        }
        area += (double)dfp * (tp + 0.5 * dtp); /* a trapezoid, in counts */
        tp += dtp;
        fp += dfp;
        fpr[points] = (double)fp / neg;
        tpr[points] = (double)tp / pos;
        points++;
        i = j;
    }
    *auc = area / ((double)pos * neg);
    free(s);
    return points;
}

static int by_value(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b ? 1 : 0;
}

double cg_stats_quantile(const double *v, int n, double q) {
    if (n <= 0 || !(q >= 0 && q <= 1))
        return NAN;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NAN;
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, by_value);
    double at = q * (n - 1);
    int lo = (int)floor(at);
    int hi = lo + 1 < n ? lo + 1 : lo;
    double r = s[lo] + (at - lo) * (s[hi] - s[lo]);
    free(s);
    return r;
}

cg_prf cg_stats_prf(const bool *predicted, const bool *truth, int n, double beta) {
    cg_prf r = {0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        r.tp += predicted[i] && truth[i];
        r.fp += predicted[i] && !truth[i];
        r.fn += !predicted[i] && truth[i];
        r.tn += !predicted[i] && !truth[i];
    }
    r.precision = r.tp + r.fp ? (double)r.tp / (double)(r.tp + r.fp) : 0;
    r.recall = r.tp + r.fn ? (double)r.tp / (double)(r.tp + r.fn) : 0;
    double b2 = beta * beta, den = b2 * r.precision + r.recall;
    r.f = den > 0 ? (1 + b2) * r.precision * r.recall / den : 0;
    return r;
}

/* ---- the geometry of an embedding ---- */

static double sq_dist(const double *a, const double *b, int dim) {
    double s = 0;
    for (int d = 0; d < dim; d++)
        s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
}

double cg_stats_knn_accuracy(const double *ref, const int *ref_label, int n_ref,
                             const double *q, const int *q_label, int n, int dim, int k,
                             bool leave_self_out) {
    if (n < 1 || k < 1 || n_ref - (leave_self_out ? 1 : 0) < k)
        return NAN;
    double *best = malloc((size_t)k * sizeof *best);
    int *who = malloc((size_t)k * sizeof *who);
    int correct = 0;
    for (int i = 0; best && who && i < n; i++) {
        int m = 0; /* the k nearest so far, ascending */
        for (int j = 0; j < n_ref; j++) {
            if (leave_self_out && j == i)
                continue;
            double d = sq_dist(q + (size_t)i * dim, ref + (size_t)j * dim, dim);
            if (m == k && d >= best[k - 1])
                continue;
            int at = m < k ? m++ : k - 1;
            while (at > 0 && best[at - 1] > d) {
                best[at] = best[at - 1];
                who[at] = who[at - 1];
                at--;
            }
            best[at] = d;
            who[at] = j;
        }
        /* The vote: the label with the most of the k; among tied labels the nearest one's. */
        int winner = ref_label[who[0]], top = 0;
        for (int a = 0; a < k; a++) {
            int votes = 0;
            for (int b = 0; b < k; b++)
                votes += ref_label[who[b]] == ref_label[who[a]];
            if (votes > top) {
                top = votes;
                winner = ref_label[who[a]];
            }
        }
        correct += winner == q_label[i];
    }
    bool ok = best && who;
    free(best);
    free(who);
    return ok ? (double)correct / n : NAN;
}

/* Solves A x = b (dim x dim, A overwritten) by Gaussian elimination with partial pivoting;
 * false when A is singular. */
static bool solve(double *A, double *b, int dim) {
    for (int c = 0; c < dim; c++) {
        int p = c;
        for (int r = c + 1; r < dim; r++)
            if (fabs(A[r * dim + c]) > fabs(A[p * dim + c]))
                p = r;
        if (fabs(A[p * dim + c]) < 1e-300)
            return false;
        for (int j = 0; j < dim; j++) {
            double t = A[c * dim + j];
            A[c * dim + j] = A[p * dim + j];
            A[p * dim + j] = t;
        }
        double t = b[c];
        b[c] = b[p];
        b[p] = t;
        for (int r = c + 1; r < dim; r++) {
            double f = A[r * dim + c] / A[c * dim + c];
            for (int j = c; j < dim; j++)
                A[r * dim + j] -= f * A[c * dim + j];
            b[r] -= f * b[c];
        }
    }
    for (int r = dim - 1; r >= 0; r--) {
        for (int j = r + 1; j < dim; j++)
            b[r] -= A[r * dim + j] * b[j];
        b[r] /= A[r * dim + r];
    }
    return true;
}

static int by_score_asc(const void *pa, const void *pb) {
    return by_score_desc(pb, pa);
}

double cg_stats_linear_separability(const double *x, const int *label, int n, int dim) {
    if (n < 2 || dim < 1)
        return NAN;
    int la = label[0], lb = la;
    for (int i = 0; i < n; i++) {
        if (label[i] == la)
            continue;
        if (lb != la && label[i] != lb)
            return NAN; /* a third label */
        lb = label[i];
    }
    if (lb == la)
        return NAN;
    double *mean = calloc((size_t)2 * dim, sizeof *mean);
    double *S = calloc((size_t)dim * dim, sizeof *S), *w = calloc((size_t)dim, sizeof *w);
    scored *p = malloc((size_t)n * sizeof *p); /* each point's projection */
    double result = NAN;
    if (!mean || !S || !w || !p)
        goto done;
    int count[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        int c = label[i] == lb;
        count[c]++;
        for (int d = 0; d < dim; d++)
            mean[c * dim + d] += x[(size_t)i * dim + d];
    }
    for (int c = 0; c < 2; c++)
        for (int d = 0; d < dim; d++)
            mean[c * dim + d] /= count[c];
    double trace = 0;
    for (int i = 0; i < n; i++) {
        const double *m = mean + (label[i] == lb) * dim, *r = x + (size_t)i * dim;
        for (int a = 0; a < dim; a++)
            for (int b = 0; b < dim; b++)
                S[a * dim + b] += (r[a] - m[a]) * (r[b] - m[b]);
    }
    for (int a = 0; a < dim; a++)
        trace += S[a * dim + a];
    for (int a = 0; a < dim; a++) /* a ridge so that a degenerate class still has a direction */
        S[a * dim + a] += 1e-9 * (trace > 0 ? trace / dim : 1);
    for (int d = 0; d < dim; d++)
        w[d] = mean[dim + d] - mean[d];
    if (!solve(S, w, dim))
        goto done;
    for (int i = 0; i < n; i++) {
        double v = 0;
        for (int d = 0; d < dim; d++)
            v += w[d] * x[(size_t)i * dim + d];
        p[i] = (scored){v, label[i] == lb};
    }
    qsort(p, (size_t)n, sizeof *p, by_score_asc);
    /* A threshold between consecutive distinct projections: everything above it is called b
     * (or, the other way round, a); the best of either orientation. */
    int below_pos = 0, below_neg = 0, best = count[0] > count[1] ? count[0] : count[1];
    for (int i = 0; i < n; i++) {
        below_pos += p[i].positive;
        below_neg += !p[i].positive;
        if (i + 1 < n && p[i + 1].score == p[i].score)
            continue;
        int right = below_neg + (count[1] - below_pos); /* a below, b above */
        int flipped = n - right;
        best = right > best ? right : best;
        best = flipped > best ? flipped : best;
    }
    result = (double)best / n;
done:
    free(mean);
    free(S);
    free(w);
    free(p);
    return result;
}

double cg_stats_stray(const double *ref, const int *ref_label, int n_ref, const double *x,
                      const int *label, int n, int dim) {
    if (n < 1 || n_ref < 1)
        return NAN;
    int labels[64], n_labels = 0;
    double *centre = calloc((size_t)64 * dim, sizeof *centre);
    int count[64] = {0};
    if (!centre)
        return NAN;
    for (int j = 0; j < n_ref; j++) {
        int c = 0;
        while (c < n_labels && labels[c] != ref_label[j])
            c++;
        if (c == n_labels) {
            if (n_labels == 64)
                continue; /* more labels than an embedding study has: the rest are left out */
            labels[n_labels++] = ref_label[j];
        }
        count[c]++;
        for (int d = 0; d < dim; d++)
            centre[c * dim + d] += ref[(size_t)j * dim + d];
    }
    for (int c = 0; c < n_labels; c++)
        for (int d = 0; d < dim; d++)
            centre[c * dim + d] /= count[c];
    int stray = 0;
    for (int i = 0; i < n; i++) {
        int nearest = 0;
        double bd = INFINITY;
        for (int c = 0; c < n_labels; c++) {
            double d = sq_dist(x + (size_t)i * dim, centre + c * dim, dim);
            if (d < bd) {
                bd = d;
                nearest = c;
            }
        }
        stray += labels[nearest] != label[i];
    }
    free(centre);
    return (double)stray / n;
}

double cg_stats_silhouette(const double *x, const int *group, int n, int dim) {
    int groups[64], n_groups = 0;
    for (int i = 0; i < n; i++) {
        int g = 0;
        while (g < n_groups && groups[g] != group[i])
            g++;
        if (g == n_groups && n_groups < 64)
            groups[n_groups++] = group[i];
    }
    if (n_groups < 2)
        return NAN;
    double *sum = malloc((size_t)n_groups * sizeof *sum);
    int *size = calloc((size_t)n_groups, sizeof *size), *of = malloc((size_t)n * sizeof *of);
    double total = 0;
    bool ok = sum && size && of;
    for (int i = 0; ok && i < n; i++) {
        int g = 0;
        while (g < n_groups && groups[g] != group[i])
            g++;
        of[i] = g; /* n_groups for a group past the 64th: left out */
        if (g < n_groups)
            size[g]++;
    }
    int counted = 0;
    for (int i = 0; ok && i < n; i++) {
        if (of[i] == n_groups)
            continue;
        counted++;
        if (size[of[i]] < 2)
            continue; /* alone in its group: 0 */
        for (int g = 0; g < n_groups; g++)
            sum[g] = 0;
        for (int j = 0; j < n; j++)
            if (j != i && of[j] < n_groups)
                sum[of[j]] += sqrt(sq_dist(x + (size_t)i * dim, x + (size_t)j * dim, dim));
        double a = sum[of[i]] / (size[of[i]] - 1), b = INFINITY;
        for (int g = 0; g < n_groups; g++)
            if (g != of[i] && size[g] > 0 && sum[g] / size[g] < b)
                b = sum[g] / size[g];
        double m = a > b ? a : b;
        total += m > 0 ? (b - a) / m : 0;
    }
    free(sum);
    free(size);
    free(of);
    return ok && counted ? total / counted : NAN;
}

double cg_stats_importance_bound(const double *v, int k) {
    if (k < 1)
        return NAN;
    double lo = v[0];
    for (int i = 1; i < k; i++)
        lo = v[i] < lo ? v[i] : lo;
    double sum = 0;
    for (int i = 0; i < k; i++)
        sum += exp(lo - v[i]);
    return lo - log(sum / k);
}
