/* Figures as self-contained SVG (no scripts, fonts or styles from elsewhere): line plots with
 * shaded bands (95% intervals), scatter plots (colour by class, marker by group), histograms of
 * two or more populations, ROC curves with the chance diagonal, heatmaps of a 2-D map with a colour
 * bar, and box plots. Each has axes with ticks, axis labels, a legend and a title. Every plotted
 * point is an element of its own (a polyline vertex, a marker), so a test can count them. */
#ifndef CG_REPORT_SVG_H
#define CG_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

/* What every figure has. Limits left NaN are taken from the data (with a margin). */
typedef struct cg_plot {
    const char *title, *xlabel, *ylabel;
    int width, height; /* 0: 760 x 440 */
    double xmin, xmax, ymin, ymax;
    bool diagonal;  /* draw y = x (ROC curves) */
    bool integer_x; /* ticks on whole numbers only (epochs) */
} cg_plot;

/* A plot with no limits fixed. */
cg_plot cg_plot_make(const char *title, const char *xlabel, const char *ylabel);

/* One line: n points (x, y); lo and hi (may be NULL) bound a shaded band around it. */
typedef struct cg_line {
    const char *label;
    int n;
    const double *x, *y, *lo, *hi;
    bool dashed;
    int colour; /* index into the palette; -1: the line's index; CG_SVG_INK: near-black */
} cg_line;
#define CG_SVG_INK 1000

void cg_svg_lines(FILE *f, const cg_plot *p, const cg_line *lines, int n_lines);

/* n points coloured by class (cls[i] in [0, n_classes)) and marked by group (group may be NULL;
 * else group[i] in [0, n_groups): circle, square, triangle, diamond, cross, ...). */
void cg_svg_scatter(FILE *f, const cg_plot *p, const double *x, const double *y, int n,
                    const int *cls, const char *const *class_names, int n_classes,
                    const int *group, const char *const *group_names, int n_groups);

/* A set of values with a name: a histogram's population or a box plot's group. */
typedef struct cg_values {
    const char *label;
    int n;
    const double *v;
} cg_values;

/* Overlaid histograms (shared bins over the range of all values, as densities). */
void cg_svg_histograms(FILE *f, const cg_plot *p, const cg_values *pops, int n_pops, int bins);

/* ROC curves (fpr, tpr) with the chance diagonal; labels should carry the AUC. */
void cg_svg_roc(FILE *f, const cg_plot *p, const cg_line *curves, int n_curves);

/* A map of w x h values (row 0 at the top) over [x0, x1] x [y0, y1], with a colour bar. */
void cg_svg_heatmap(FILE *f, const cg_plot *p, const double *v, int w, int h, double x0,
                    double x1, double y0, double y1, const char *bar_label);

/* One box per group: quartiles, median, whiskers to the most extreme values within 1.5 IQR,
 * the rest as points. */
void cg_svg_boxes(FILE *f, const cg_plot *p, const cg_values *groups, int n_groups);

/* Writes text with &, <, >, " and ' escaped for XML and HTML. */
void cg_xml_text(FILE *f, const char *s);

#endif
