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
