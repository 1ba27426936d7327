/* The report's parts against values computed by hand or independently: Student t quantiles and
 * CDF, summaries with the interval rule, Welch's test, ROC curves and AUC with ties, quantiles,
 * the importance-weighted bound, precision / recall / F; the JSON writer with hostile strings
 * and non-finite numbers; CSV quoting and exact numbers, read back; every SVG figure well-formed
 * with one element per plotted point. Needs no device. */
#include <math.h>

#include "harness.h"
#include "report/csv.h"
#include "report/json.h"
#include "report/stats.h"
#include "report/svg.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static void test_stats(void) {
    /* Two-sided 95% quantiles from the standard t table. */
    static const struct {
        double df, t;
    } t95[] = {{1, 12.7062}, {2, 4.3027}, {3, 3.1824}, {10, 2.2281}, {30, 2.0423}, {1000, 1.9623}};
    for (size_t i = 0; i < sizeof t95 / sizeof t95[0]; i++)
        CHECK(NEAR(cg_stats_t_quantile(0.975, t95[i].df), t95[i].t, 1e-4), "t(0.975, %g) = %g",
              t95[i].df, cg_stats_t_quantile(0.975, t95[i].df));
    CHECK(NEAR(cg_stats_t_cdf(2.0, 5), 0.9490302606, 1e-9), "t CDF %g",
          cg_stats_t_cdf(2.0, 5));
    CHECK(NEAR(cg_stats_t_quantile(0.025, 4), -2.7764, 1e-4), "lower quantile");
    double v[] = {1, 2, 3, 4, NAN};
    cg_summary s = cg_stats_summary(v, 5);
    CHECK(s.n == 4 && s.mean == 2.5 && NEAR(s.sd, 1.2909944, 1e-6) &&
              NEAR(s.ci95, 3.1824463 * 1.2909944 / 2, 1e-5),
          "summary n %d mean %g sd %g ci %g", s.n, s.mean, s.sd, s.ci95);
    s = cg_stats_summary(v, 2);
    CHECK(s.n == 2 && NEAR(s.sd, 0.7071068, 1e-6) && isnan(s.ci95),
          "no interval below 3 values");
    s = cg_stats_summary(v, 1);
    CHECK(s.mean == 1 && isnan(s.sd) && isnan(s.ci95), "one value: no spread");
    /* Welch: checked by numerical integration of the t density. */
    double a[] = {1, 2, 3, 4}, b[] = {2, 4, 6, 8, 10}, t, df;
    double p = cg_stats_welch(a, 4, b, 5, &t, &df);
    CHECK(NEAR(t, -2.2514363, 1e-6) && NEAR(df, 5.5207877, 1e-6) && NEAR(p, 0.0691336, 1e-6),
          "Welch t %g df %g p %g", t, df, p);
    CHECK(isnan(cg_stats_welch(a, 1, b, 5, NULL, NULL)), "Welch needs two values a side");
    double same[] = {3, 3, 3};
    CHECK(cg_stats_welch(same, 3, a, 4, NULL, NULL) > 0, "one side without spread");
    double other[] = {4, 4, 4};
    CHECK(cg_stats_welch(same, 3, other, 3, NULL, NULL) == 0, "no spread, different means");
    /* ROC with a tie across the classes: AUC = (1 + 1 + 0.5 + 1 + 0) / 6. */
    double score[] = {0.9, 0.8, 0.8, 0.3, 0.1};
    bool pos[] = {true, true, false, false, true};
    double fpr[6], tpr[6], auc;
    int n = cg_stats_roc(score, pos, 5, fpr, tpr, &auc);
    CHECK(n == 5 && NEAR(auc, 3.5 / 6, 1e-12), "AUC %g with %d points", auc, n);
    static const double wf[] = {0, 0, 0.5, 1, 1}, wt[] = {0, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1};
    int bad = 0;
    for (int i = 0; i < 5 && n == 5; i++)
        bad += !NEAR(fpr[i], wf[i], 1e-12) || !NEAR(tpr[i], wt[i], 1e-12);
    CHECK(bad == 0, "ROC points (the tie moves both rates at once)");
    bool all[] = {true, true, true, true, true};
    n = cg_stats_roc(score, all, 5, fpr, tpr, &auc);
    CHECK(isnan(auc) && n == 2, "no negatives: no AUC");
    CHECK(NEAR(cg_stats_quantile(a, 4, 0.25), 1.75, 1e-12) &&
              NEAR(cg_stats_quantile(a, 4, 0.9), 3.7, 1e-12) && cg_stats_quantile(b, 5, 0) == 2 &&
              cg_stats_quantile(b, 5, 1) == 10,
          "quantiles");
    bool pred[] = {true, true, false, false, true}, truth[] = {true, false, true, false, true};
    cg_prf r = cg_stats_prf(pred, truth, 5, 1);
    CHECK(r.tp == 2 && r.fp == 1 && r.fn == 1 && r.tn == 1 && NEAR(r.precision, 2.0 / 3, 1e-12) &&
              NEAR(r.recall, 2.0 / 3, 1e-12) && NEAR(r.f, 2.0 / 3, 1e-12),
          "precision, recall, F1");
    r = cg_stats_prf(pred, truth, 5, 2);
    CHECK(NEAR(r.f, 2.0 / 3, 1e-12), "F2 of equal precision and recall");
    bool none[] = {false, false};
    r = cg_stats_prf(none, none, 2, 1);
    CHECK(r.precision == 0 && r.recall == 0 && r.f == 0, "empty denominators give 0");
    printf("ok   statistics\n");
}

static void test_json(void) {
    static const char hostile[] = "q\"uote \\back\nnew\ttab\x01 ctl é </script>";
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, hostile, hostile);
    cg_json_add_number(o, "nan", NAN);
    cg_json_add_number(o, "inf", INFINITY);
    cg_json_add_number(o, "third", 1.0 / 3);
    char *text = cg_json_text(o);
    bool raw_control = false;
    for (char *p = text; p && *p; p++)
        raw_control = raw_control || ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t');
    CHECK(text && !raw_control, "no raw control characters in strings: %s", text);
    cJSON *back = NULL;
    CHECK_OK(cg_json_parse("mem", text, strlen(text), &back));
    CHECK(back && !strcmp(cg_json_string(back, hostile, ""), hostile),
          "a hostile key and value read back exactly");
    const cJSON *nan = cJSON_GetObjectItemCaseSensitive(back, "nan");
    CHECK(cJSON_IsNull(nan) && isnan(cg_json_number(back, "inf", 0)),
          "NaN and infinity are written as null");
    CHECK(cg_json_number(back, "third", 0) == 1.0 / 3, "numbers read back exactly");
    free(text);
    cJSON_Delete(o);
    cJSON_Delete(back);
    static const char broken[] = "{\n  \"a\": [1,\n  }\n";
    cg_status st = cg_json_parse("broken.json", broken, strlen(broken), &back);
    CHECK(st == CG_ERR_PARSE && !back, "broken JSON is refused");
    CHECK_CONTAINS(cg_error_message(), "broken.json:3:");
    printf("ok   JSON\n");
}

static void test_csv(void) {
    char path[] = "/tmp/clgraph-csv-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\nlines", ""};
    for (int i = 0; i < 5; i++) {
        if (i)
            fputc(',', f);
        cg_csv_field(f, fields[i]);
    }
    fputc('\n', f);
    double nums[] = {0.1, 1.0 / 3, 1e-300, -2.5, NAN};
    for (int i = 0; i < 5; i++) {
        if (i)
            fputc(',', f);
        cg_csv_number(f, nums[i]);
    }
    fputc('\n', f);
    fclose(f);
    cg_csv c;
    CHECK_OK(cg_csv_read(path, &c));
    CHECK(c.n_rows == 2 && c.n_fields[0] == 5 && c.n_fields[1] == 5, "2 rows of 5 fields");
    for (int i = 0; c.n_rows == 2 && i < 5; i++) {
        CHECK(!strcmp(c.fields[0][i], fields[i]), "field %d: '%s'", i, c.fields[0][i]);
        double v = strtod(c.fields[1][i], NULL);
        CHECK(isnan(nums[i]) ? isnan(v) : v == nums[i], "number %d reads back: %s", i,
              c.fields[1][i]);
    }
    cg_csv_free(&c);
    f = fopen(path, "w");
    fputs("a,\"open\nquote\n", f);
    fclose(f);
    CHECK(cg_csv_read(path, &c) == CG_ERR_PARSE, "an open quote is refused");
    CHECK_CONTAINS(cg_error_message(), ":1: a quoted field is never closed");
    remove(path);
    printf("ok   CSV\n");
}

/* A minimal well-formedness check: tags nest and close, attribute values are quoted, & starts
 * an entity. Returns the number of elements, or -1. */
static int xml_elements(const char *s) {
    char stack[64][32];
    int depth = 0, count = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '&' && !(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
                           strncmp(p, "&gt;", 4) == 0 || strncmp(p, "&quot;", 6) == 0 ||
                           strncmp(p, "&#39;", 5) == 0))
            return -1;
        if (*p != '<')
            continue;
        const char *end = strchr(p, '>');
        if (!end)
            return -1;
        if (p[1] == '/') {
            size_t len = strcspn(p + 2, " >");
            if (depth == 0 || strncmp(stack[depth - 1], p + 2, len) || stack[depth - 1][len])
                return -1;
            depth--;
        } else {
            bool quoted = false;
            for (const char *q = p; q < end; q++)
                quoted = *q == '"' ? !quoted : quoted;
            if (quoted || depth == 64)
                return -1;
            count++;
            if (end[-1] != '/') {
                size_t len = strcspn(p + 1, " >/");
                snprintf(stack[depth++], 32, "%.*s", (int)len, p + 1);
            }
        }
        p = end;
    }
    return depth == 0 ? count : -1;
}

static int count_of(const char *s, const char *what) {
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static void test_svg(void) {
    char *buf = NULL;
    size_t len = 0;
    cg_plot p = cg_plot_make("Accuracy <per> epoch & more", "epoch", "accuracy");
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {0.5, 0.6, 0.7, 0.75, 0.8}, lo[5], hi[5];
    for (int i = 0; i < 5; i++)
        lo[i] = y[i] - 0.05, hi[i] = y[i] + 0.05;
    cg_line lines[2] = {{"base", 5, x, y, lo, hi, false, -1}, {"sim", 5, x, lo, NULL, NULL, true, 1}};
    FILE *f = open_memstream(&buf, &len);
    cg_svg_lines(f, &p, lines, 2);
    fclose(f);
    CHECK(xml_elements(buf) > 0 && count_of(buf, "class=\"point\"") == 10 &&
              count_of(buf, "class=\"band\"") == 1 && strstr(buf, "&lt;per&gt; epoch &amp; more"),
          "line plot: well-formed, 10 points, one band, escaped title");
    free(buf);
    double sx[7] = {0, 1, 2, 3, 4, 5, NAN}, sy[7] = {1, 0, 1, 0, 1, 0, 1};
    int cls[7] = {0, 1, 0, 1, 0, 1, 0}, grp[7] = {0, 0, 1, 1, 2, 2, 0};
    const char *cn[2] = {"4", "9"}, *gn[3] = {"test", "shift -3", "shift +3"};
    f = open_memstream(&buf, &len);
    cg_svg_scatter(f, &p, sx, sy, 7, cls, cn, 2, grp, gn, 3);
    fclose(f);
    const char *pts = buf ? strstr(buf, "class=\"points\"") : NULL;
    CHECK(xml_elements(buf) > 0 && pts &&
              count_of(pts, "<circle") + count_of(pts, "<rect") + count_of(pts, "<path") == 6,
          "scatter: well-formed, 6 finite points");
    free(buf);
    double pa[4] = {0.1, 0.2, 0.2, 0.9}, pb[3] = {0.5, 0.6, 0.95};
    cg_values pops[2] = {{"normal", 4, pa}, {"anomaly", 3, pb}};
    f = open_memstream(&buf, &len);
    cg_svg_histograms(f, &p, pops, 2, 8);
    fclose(f);
    CHECK(xml_elements(buf) > 0 && count_of(buf, "class=\"bin\"") == 16,
          "histograms: well-formed, 8 bins each");
    free(buf);
    double fpr[3] = {0, 0.5, 1}, tpr[3] = {0, 0.8, 1};
    cg_line roc = {"test_a (AUC 0.65)", 3, fpr, tpr, NULL, NULL, false, 0};
    f = open_memstream(&buf, &len);
    cg_svg_roc(f, &p, &roc, 1);
    fclose(f);
    CHECK(xml_elements(buf) > 0 && count_of(buf, "class=\"diagonal\"") == 1 &&
              count_of(buf, "class=\"point\"") == 3,
          "ROC: well-formed, the diagonal and 3 points");
    free(buf);
    double map[12];
    for (int i = 0; i < 12; i++)
        map[i] = i * 0.1;
    f = open_memstream(&buf, &len);
    cg_svg_heatmap(f, &p, map, 4, 3, -2, 2, -2, 2, "confidence");
    fclose(f);
    const char *cells = buf ? strstr(buf, "class=\"cells\"") : NULL;
    const char *bar = buf ? strstr(buf, "class=\"colourbar\"") : NULL;
    CHECK(xml_elements(buf) > 0 && cells && bar && count_of(cells, "<rect") - count_of(bar, "<rect") == 12,
          "heatmap: well-formed, 12 cells and a colour bar");
    free(buf);
    double g1[6] = {1, 2, 3, 4, 5, 40}, g2[3] = {2, 2, 3};
    cg_values groups[2] = {{"neither", 6, g1}, {"both", 3, g2}};
    f = open_memstream(&buf, &len);
    cg_svg_boxes(f, &p, groups, 2);
    fclose(f);
    CHECK(xml_elements(buf) > 0 && count_of(buf, "class=\"box\"") == 2 &&
              count_of(buf, "class=\"outlier\"") == 1,
          "box plot: well-formed, 2 boxes, the outlier 40");
    CHECK(buf && strstr(buf, ">neither</text>") && !strstr(buf, "<tspan"),
          "two short labels stay on one line");
    free(buf);
    /* Eight long "variant, split" labels would run into each other: two lines each. */
    cg_values many[8];
    char names[8][40];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "labeled_%d, test_%c", 100 + i, 'a' + i % 2);
        many[i] = (cg_values){names[i], 6, g1};
    }
    f = open_memstream(&buf, &len);
    cg_svg_boxes(f, &p, many, 8);
    fclose(f);
    CHECK(xml_elements(buf) > 0 && count_of(buf, "<tspan") == 8 &&
              strstr(buf, ">labeled_103<tspan") && strstr(buf, ">test_b</tspan>"),
          "crowded box labels break onto two lines");
    free(buf);
    printf("ok   SVG figures\n");
}

/* The embedding statistics on points placed by hand. */
static void test_embedding_stats(void) {
    const double ref[6] = {0, 1, 2, 10, 11, 12};
    const int rl[6] = {0, 0, 0, 1, 1, 1};
    /* k = 3: 0.5 -> {0, 1, 2} class 0, right; 10.5 -> class 1, wrong (labelled 0);
     * 5.9 -> {2, 10, 1}: two votes for 0, wrong (labelled 1). */
    const double q[3] = {0.5, 10.5, 5.9};
    const int ql[3] = {0, 0, 1};
    CHECK(NEAR(cg_stats_knn_accuracy(ref, rl, 6, q, ql, 3, 1, 3, false), 1.0 / 3, 1e-12),
          "k-NN accuracy by hand");
    /* k = 2 at 6 (labelled 1): 2 and 10 tie in votes; the nearest (2, found first at the same
     * distance) decides: class 0, wrong. */
    const double q6[1] = {6};
    const int l6[1] = {1};
    CHECK(cg_stats_knn_accuracy(ref, rl, 6, q6, l6, 1, 1, 2, false) == 0, "k-NN tie");
    /* Leave one out, k = 1, with a 1 placed at 1.4: 0 -> 1 right, 1 -> 1.4 wrong, 2 -> 1.4
     * wrong, 10 and 11 right, 1.4 -> 1 wrong: 3 of 6. */
    const double loo[6] = {0, 1, 2, 10, 11, 1.4};
    CHECK(NEAR(cg_stats_knn_accuracy(loo, rl, 6, loo, rl, 6, 1, 1, true), 0.5, 1e-12),
          "k-NN leaving each point out");
    CHECK(isnan(cg_stats_knn_accuracy(ref, rl, 2, q, ql, 3, 1, 3, false)), "k-NN: k > refs");

    /* A 1 inside the triangle of the three 0s cannot be cut off by a line: 5 of 6 at best,
     * which Fisher's direction reaches; moved out to (3, 4), all 6. */
    double x[12] = {0, 0, 1, 0, 0, 1, 3, 3, 4, 3, 0.2, 0.2};
    const int xl[6] = {0, 0, 0, 1, 1, 1};
    CHECK(NEAR(cg_stats_linear_separability(x, xl, 6, 2), 5.0 / 6, 1e-12),
          "separability with one point inside the other class (%g)",
          cg_stats_linear_separability(x, xl, 6, 2));
    x[10] = 3, x[11] = 4;
    CHECK(cg_stats_linear_separability(x, xl, 6, 2) == 1, "separable");
    const int three[6] = {0, 0, 1, 1, 2, 2};
    CHECK(isnan(cg_stats_linear_separability(x, three, 6, 2)), "separability of three labels");

    /* Centroids 1 (label 0) and 11 (label 1): 3 right, 7 stray, 5 (label 1) stray, 6.5 right;
     * a label the reference lacks is stray. */
    const double cref[4] = {0, 2, 10, 12}, pts[5] = {3, 7, 5, 6.5, 1};
    const int cl[4] = {0, 0, 1, 1}, pl[5] = {0, 0, 1, 1, 7};
    CHECK(NEAR(cg_stats_stray(cref, cl, 4, pts, pl, 4, 1), 0.5, 1e-12), "stray by hand");
    CHECK(NEAR(cg_stats_stray(cref, cl, 4, pts, pl, 5, 1), 0.6, 1e-12), "stray: unknown label");

    /* Groups {0, 1} and {10, 11}: s = 9.5/10.5 for the outer points, 8.5/9.5 for the inner;
     * a third group {20} alone scores 0 and moves the others' b only where it is nearer. */
    const double sp[5] = {0, 1, 10, 11, 20};
    const int sg[5] = {0, 0, 1, 1, 2};
    double want = (9.5 / 10.5 + 8.5 / 9.5) / 2;
    CHECK(NEAR(cg_stats_silhouette(sp, sg, 4, 1), want, 1e-12), "silhouette by hand");
    /* With {20}: 11's nearest other group is {20} (9 < 10.5): s = 8 / 9; 10's: b = min(9.5,
     * 10) = 9.5 as before; 0 and 1 unchanged. */
    double want3 = (9.5 / 10.5 + 8.5 / 9.5 + 8.5 / 9.5 + 8.0 / 9 + 0) / 5;
    CHECK(NEAR(cg_stats_silhouette(sp, sg, 5, 1), want3, 1e-12), "silhouette with a lone point "
          "(%g, want %g)", cg_stats_silhouette(sp, sg, 5, 1), want3);
    CHECK(isnan(cg_stats_silhouette(sp, sg, 2, 1)), "silhouette of one group");
}

/* The importance-weighted bound: -log((e^-1 + e^-2) / 2) = 1 - log((1 + e^-1) / 2)
 * = 1.3798855 by hand; one draw is its own value; equal draws give that value even where
 * exp(-v) underflows (v = 1000); more draws can only lower it below their mean (Jensen). */
static void test_importance_bound(void) {
    const double two[2] = {1, 2}, one[1] = {7.5}, big[3] = {1000, 1000, 1000};
    const double spread[4] = {3, 5, 4, 8};
    CHECK(NEAR(cg_stats_importance_bound(two, 2), 1.3798855, 1e-6), "bound of {1, 2}: %.7f",
          cg_stats_importance_bound(two, 2));
    CHECK(cg_stats_importance_bound(one, 1) == 7.5, "one draw: %g",
          cg_stats_importance_bound(one, 1));
    CHECK(NEAR(cg_stats_importance_bound(big, 3), 1000, 1e-9), "no underflow: %g",
          cg_stats_importance_bound(big, 3));
    double b = cg_stats_importance_bound(spread, 4);
    CHECK(b < 5 && b > 3, "below the mean of the draws (5), above their least: %g", b);
    CHECK(isnan(cg_stats_importance_bound(two, 0)), "no draws: NaN");
}

int main(void) {
    test_stats();
    test_importance_bound();
    test_embedding_stats();
    test_json();
    test_csv();
    test_svg();
    return cgt_finish("test_report");
}
