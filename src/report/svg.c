/* SVG figures (see svg.h). Coordinates are written with one decimal; the plot area sits inside
 * margins that hold the title, the tick labels, the axis labels and, on the right, the legend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/stats.h"
#include "report/svg.h"

/* Tableau's ten colours: distinct for colour-blind readers and in greyscale print. */
static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define PALETTE_N 10

static const char *colour(int i) {
    if (i == CG_SVG_INK)
        return "#222222";
    return palette[((i % PALETTE_N) + PALETTE_N) % PALETTE_N];
}

cg_plot cg_plot_make(const char *title, const char *xlabel, const char *ylabel) {
    cg_plot p = {title, xlabel, ylabel, 0, 0, NAN, NAN, NAN, NAN, false, false};
    return p;
}

void cg_xml_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, f);
        }
    }
}

/* ---- frame: limits, ticks, axes ---- */

typedef enum { KEY_LINE, KEY_BAND, KEY_MARKER } key_kind;

typedef struct legend_key {
    const char *label;
    int colour;
    key_kind kind;
    int marker;
    bool dashed;
} legend_key;

typedef struct frame {
    double x0, x1, y0, y1; /* data limits */
    double left, top, w, h; /* plot area in pixels */
    int width, height;
} frame;

static double px(const frame *fr, double x) {
    return fr->left + (x - fr->x0) / (fr->x1 - fr->x0) * fr->w;
}

static double py(const frame *fr, double y) {
    return fr->top + fr->h - (y - fr->y0) / (fr->y1 - fr->y0) * fr->h;
}

/* A step of 1, 2 or 5 times a power of ten giving about `want` intervals over span. */
static double nice_step(double span, int want) {
    double raw = span / want, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

/* Limits from the data (lo, hi) unless fixed; empty or flat data get a unit span. */
static void limits(double fixed_lo, double fixed_hi, double lo, double hi, double *a, double *b) {
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + 1)) {
        lo -= 0.5;
        hi += 0.5;
    }
    double pad = 0.04 * (hi - lo);
    *a = isnan(fixed_lo) ? lo - pad : fixed_lo;
    *b = isnan(fixed_hi) ? hi + pad : fixed_hi;
    if (*b <= *a)
        *b = *a + 1;
}

static void marker(FILE *f, int shape, double x, double y, double r, const char *fill) {
    switch (shape % 5) {
    case 0:
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>", x, y, r, fill);
        break;
    case 1:
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                x - r, y - r, 2 * r, 2 * r, fill);
        break;
    case 2:
        fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x, y - 1.2 * r,
                x + 1.1 * r, y + 0.8 * r, x - 1.1 * r, y + 0.8 * r, fill);
        break;
    case 3:
        fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fZ\" fill=\"%s\"/>", x,
                y - 1.3 * r, x + 1.3 * r, y, x, y + 1.3 * r, x - 1.3 * r, y, fill);
        break;
    default:
        fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" stroke=\"%s\" "
                   "stroke-width=\"1.6\" fill=\"none\"/>",
                x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r, fill);
    }
}

static void tick_label(char *out, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-6)
        v = 0;
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(out, cap, "%.*f", decimals > 6 ? 6 : decimals, v);
}

/* Opens the SVG and draws the frame; the plot area is left for the caller. */
static void begin_frame(FILE *f, const cg_plot *p, frame *fr, const legend_key *keys, int n_keys,
                        double right_extra, bool x_ticks) {
    fr->width = p->width > 0 ? p->width : 760;
    fr->height = p->height > 0 ? p->height : 440;
    double legend_w = n_keys > 0 ? 170 : 0;
    fr->left = 68;
    fr->top = p->title && *p->title ? 40 : 16;
    fr->w = fr->width - fr->left - 20 - legend_w - right_extra;
    fr->h = fr->height - fr->top - 52;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            fr->width, fr->height, fr->width, fr->height);
    fprintf(f, "<title>");
    cg_xml_text(f, p->title ? p->title : "figure");
    fprintf(f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    if (p->title && *p->title) {
        fprintf(f, "<text x=\"12\" y=\"24\" font-size=\"14\" font-weight=\"bold\">");
        cg_xml_text(f, p->title);
        fprintf(f, "</text>\n");
    }
    /* Grid and ticks. */
    fprintf(f, "<g class=\"axes\" stroke=\"#ddd\" stroke-width=\"1\">\n");
    double xs = nice_step(fr->x1 - fr->x0, 6), ys = nice_step(fr->y1 - fr->y0, 6);
    if (p->integer_x && xs < 1)
        xs = 1;
    for (double t = ceil(fr->x0 / xs - 1e-9) * xs; x_ticks && t <= fr->x1 + xs * 1e-9; t += xs)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px(fr, t),
                fr->top, px(fr, t), fr->top + fr->h);
    for (double t = ceil(fr->y0 / ys - 1e-9) * ys; t <= fr->y1 + ys * 1e-9; t += ys)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", fr->left,
                py(fr, t), fr->left + fr->w, py(fr, t));
    fprintf(f, "</g>\n<g class=\"ticks\" fill=\"#333\">\n");
    char buf[64];
    for (double t = ceil(fr->x0 / xs - 1e-9) * xs; x_ticks && t <= fr->x1 + xs * 1e-9; t += xs) {
        tick_label(buf, sizeof buf, t, xs);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px(fr, t),
                fr->top + fr->h + 16, buf);
    }
    for (double t = ceil(fr->y0 / ys - 1e-9) * ys; t <= fr->y1 + ys * 1e-9; t += ys) {
        tick_label(buf, sizeof buf, t, ys);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", fr->left - 6,
                py(fr, t) + 4, buf);
    }
    fprintf(f, "</g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#333\"/>\n",
            fr->left, fr->top, fr->w, fr->h);
    if (p->xlabel) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", fr->left + fr->w / 2,
                fr->top + fr->h + 38);
        cg_xml_text(f, p->xlabel);
        fprintf(f, "</text>\n");
    }
    if (p->ylabel) {
        fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                fr->top + fr->h / 2);
        cg_xml_text(f, p->ylabel);
        fprintf(f, "</text>\n");
    }
    /* The legend, right of the plot area. */
    if (n_keys > 0) {
        double lx = fr->left + fr->w + right_extra + 16, ly = fr->top + 8;
        fprintf(f, "<g class=\"legend\">\n");
        for (int i = 0; i < n_keys; i++, ly += 20) {
            const legend_key *k = &keys[i];
            if (k->kind == KEY_MARKER)
                marker(f, k->marker, lx + 9, ly, 4.5, colour(k->colour));
            else if (k->kind == KEY_BAND)
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"10\" fill=\"%s\" "
                           "fill-opacity=\"0.3\"/>",
                        lx, ly - 5, colour(k->colour));
            else
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                           "stroke-width=\"2\"%s/>",
                        lx, ly, lx + 18, ly, k->colour < 0 ? "#888" : colour(k->colour),
                        k->dashed ? " stroke-dasharray=\"5 3\"" : "");
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 24, ly + 4);
            cg_xml_text(f, k->label);
            fprintf(f, "</text>\n");
        }
        fprintf(f, "</g>\n");
    }
    fprintf(f, "<g class=\"plot\">\n");
}

static void begin(FILE *f, const cg_plot *p, frame *fr, const legend_key *keys, int n_keys,
                  double right_extra) {
    begin_frame(f, p, fr, keys, n_keys, right_extra, true);
}

static void end(FILE *f) {
    fprintf(f, "</g>\n</svg>\n");
}

static void range_of(const double *v, int n, double *lo, double *hi) {
    for (int i = 0; v && i < n; i++)
        if (isfinite(v[i])) {
            *lo = v[i] < *lo ? v[i] : *lo;
            *hi = v[i] > *hi ? v[i] : *hi;
        }
}

/* ---- line plots and ROC curves ---- */

static void lines_body(FILE *f, const cg_plot *p, const cg_line *lines, int n_lines) {
    frame fr;
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int i = 0; i < n_lines; i++) {
        range_of(lines[i].x, lines[i].n, &xl, &xh);
        range_of(lines[i].y, lines[i].n, &yl, &yh);
        range_of(lines[i].lo, lines[i].n, &yl, &yh);
        range_of(lines[i].hi, lines[i].n, &yl, &yh);
    }
    limits(p->xmin, p->xmax, xl, xh, &fr.x0, &fr.x1);
    limits(p->ymin, p->ymax, yl, yh, &fr.y0, &fr.y1);
    legend_key keys[24] = {{0}};
    int nk = 0;
    for (int i = 0; i < n_lines && nk < 23; i++) {
        int c = lines[i].colour >= 0 ? lines[i].colour : i;
        keys[nk++] = (legend_key){lines[i].label, c, KEY_LINE, 0, lines[i].dashed};
    }
    if (p->diagonal && nk < 24)
        keys[nk++] = (legend_key){"chance", -1, KEY_LINE, 0, true};
    begin(f, p, &fr, keys, nk, 0);
    if (p->diagonal)
        fprintf(f, "<line class=\"diagonal\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                   "stroke=\"#888\" stroke-dasharray=\"5 3\"/>\n",
                px(&fr, fr.x0 > 0 ? fr.x0 : 0), py(&fr, fr.x0 > 0 ? fr.x0 : 0),
                px(&fr, fr.x1 < 1 ? fr.x1 : 1), py(&fr, fr.x1 < 1 ? fr.x1 : 1));
    for (int i = 0; i < n_lines; i++) {
        const cg_line *l = &lines[i];
        const char *c = colour(l->colour >= 0 ? l->colour : i);
        if (l->lo && l->hi) { /* the band: along hi, back along lo */
            fprintf(f, "<polygon class=\"band\" fill=\"%s\" fill-opacity=\"0.15\" points=\"", c);
            for (int k = 0; k < l->n; k++)
                if (isfinite(l->hi[k]))
                    fprintf(f, "%.1f,%.1f ", px(&fr, l->x[k]), py(&fr, l->hi[k]));
            for (int k = l->n - 1; k >= 0; k--)
                if (isfinite(l->lo[k]))
                    fprintf(f, "%.1f,%.1f ", px(&fr, l->x[k]), py(&fr, l->lo[k]));
            fprintf(f, "\"/>\n");
        }
        fprintf(f, "<polyline class=\"series\" data-label=\"");
        cg_xml_text(f, l->label);
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", c,
                l->dashed ? " stroke-dasharray=\"6 3\"" : "");
        for (int k = 0; k < l->n; k++)
            if (isfinite(l->y[k]))
                fprintf(f, "%.1f,%.1f ", px(&fr, l->x[k]), py(&fr, l->y[k]));
        fprintf(f, "\"/>\n");
        if (l->n <= 60) /* small series get a dot per point */
            for (int k = 0; k < l->n; k++)
                if (isfinite(l->y[k]))
                    fprintf(f, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                               "fill=\"%s\"/>\n",
                            px(&fr, l->x[k]), py(&fr, l->y[k]), c);
    }
    end(f);
}

void cg_svg_lines(FILE *f, const cg_plot *p, const cg_line *lines, int n_lines) {
    lines_body(f, p, lines, n_lines);
}

void cg_svg_roc(FILE *f, const cg_plot *p, const cg_line *curves, int n_curves) {
    cg_plot q = *p;
    q.diagonal = true;
    q.xmin = q.ymin = 0;
    q.xmax = q.ymax = 1;
    if (!q.xlabel)
        q.xlabel = "false positive rate";
    if (!q.ylabel)
        q.ylabel = "true positive rate";
    lines_body(f, &q, curves, n_curves);
}

/* ---- scatter ---- */

void cg_svg_scatter(FILE *f, const cg_plot *p, const double *x, const double *y, int n,
                    const int *cls, const char *const *class_names, int n_classes,
                    const int *group, const char *const *group_names, int n_groups) {
    frame fr;
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    range_of(x, n, &xl, &xh);
    range_of(y, n, &yl, &yh);
    limits(p->xmin, p->xmax, xl, xh, &fr.x0, &fr.x1);
    limits(p->ymin, p->ymax, yl, yh, &fr.y0, &fr.y1);
    legend_key keys[24] = {{0}};
    int nk = 0;
    for (int c = 0; c < n_classes && nk < 24; c++)
        keys[nk++] = (legend_key){class_names ? class_names[c] : "", c, KEY_MARKER, 0, false};
    for (int g = 0; group && g < n_groups && nk < 24; g++)
        keys[nk++] = (legend_key){group_names ? group_names[g] : "", 7, KEY_MARKER, g, false};
    begin(f, p, &fr, keys, nk, 0);
    fprintf(f, "<g class=\"points\" fill-opacity=\"0.6\">\n");
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        marker(f, group ? group[i] : 0, px(&fr, x[i]), py(&fr, y[i]), 3,
               colour(cls ? cls[i] : 0));
        fputc('\n', f);
    }
    fprintf(f, "</g>\n");
    end(f);
}

/* ---- histograms ---- */

void cg_svg_histograms(FILE *f, const cg_plot *p, const cg_values *pops, int n_pops, int bins) {
    if (bins < 1)
        bins = 30;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n_pops; k++)
        range_of(pops[k].v, pops[k].n, &lo, &hi);
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (hi <= lo)
        hi = lo + 1;
    double width = (hi - lo) / bins, top = 0;
    double *dens = calloc((size_t)(n_pops ? n_pops : 1) * (size_t)bins, sizeof *dens);
    for (int k = 0; dens && k < n_pops; k++) {
        int counted = 0;
        for (int i = 0; i < pops[k].n; i++) {
            if (!isfinite(pops[k].v[i]))
                continue;
            int b = (int)((pops[k].v[i] - lo) / width);
            dens[(size_t)k * bins + (b >= bins ? bins - 1 : b < 0 ? 0 : b)] += 1;
            counted++;
        }
        for (int b = 0; b < bins; b++) {
            double *d = &dens[(size_t)k * bins + b];
            *d = counted ? *d / (counted * width) : 0;
            top = *d > top ? *d : top;
        }
    }
    frame fr;
    limits(p->xmin, p->xmax, lo, hi, &fr.x0, &fr.x1);
    limits(isnan(p->ymin) ? 0 : p->ymin, p->ymax, 0, top, &fr.y0, &fr.y1);
    legend_key keys[24] = {{0}};
    int nk = 0;
    for (int k = 0; k < n_pops && nk < 24; k++)
        keys[nk++] = (legend_key){pops[k].label, k, KEY_BAND, 0, false};
    cg_plot q = *p;
    if (!q.ylabel)
        q.ylabel = "density";
    begin(f, &q, &fr, keys, nk, 0);
    for (int k = 0; dens && k < n_pops; k++) {
        fprintf(f, "<g class=\"histogram\" data-label=\"");
        cg_xml_text(f, pops[k].label);
        fprintf(f, "\" fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\">\n", colour(k), colour(k));
        for (int b = 0; b < bins; b++) {
            double d = dens[(size_t)k * bins + b];
            fprintf(f, "<rect class=\"bin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                    px(&fr, lo + b * width), py(&fr, d),
                    px(&fr, lo + (b + 1) * width) - px(&fr, lo + b * width),
                    py(&fr, 0) - py(&fr, d));
        }
        fprintf(f, "</g>\n");
    }
    free(dens);
    end(f);
}

/* ---- heatmap ---- */

/* viridis at 9 stops, interpolated: perceptually even and readable in greyscale. */
static void viridis(double t, char *out) {
    static const unsigned char stops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                              {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                              {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    t = isfinite(t) ? (t < 0 ? 0 : t > 1 ? 1 : t) : 0;
    double at = t * 8;
    int i = (int)at < 8 ? (int)at : 7;
    double u = at - i;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(stops[i][c] + u * (stops[i + 1][c] - stops[i][c]));
    sprintf(out, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

void cg_svg_heatmap(FILE *f, const cg_plot *p, const double *v, int w, int h, double x0,
                    double x1, double y0, double y1, const char *bar_label) {
    double lo = INFINITY, hi = -INFINITY;
    range_of(v, w * h, &lo, &hi);
    if (!isfinite(lo)) {
        lo = 0;
        hi = 1;
    }
    if (hi <= lo)
        hi = lo + 1;
    frame fr = {x0, x1, y0, y1, 0, 0, 0, 0, 0, 0};
    cg_plot q = *p;
    if (!q.width)
        q.width = 560;
    if (!q.height)
        q.height = 480;
    begin(f, &q, &fr, NULL, 0, 70);
    double cw = fr.w / w, ch = fr.h / h;
    char c[8];
    fprintf(f, "<g class=\"cells\" shape-rendering=\"crispEdges\">\n");
    for (int r = 0; r < h; r++)
        for (int k = 0; k < w; k++) {
            viridis((v[(size_t)r * w + k] - lo) / (hi - lo), c);
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>\n",
                    fr.left + k * cw, fr.top + r * ch, cw + 0.05, ch + 0.05, c);
        }
    fprintf(f, "</g>\n<g class=\"colourbar\">\n");
    double bx = fr.left + fr.w + 16, steps = 40;
    for (int s = 0; s < steps; s++) {
        viridis(1 - (s + 0.5) / steps, c);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.2f\" width=\"14\" height=\"%.2f\" fill=\"%s\"/>\n", bx,
                fr.top + s * fr.h / steps, fr.h / steps + 0.05, c);
    }
    double step = nice_step(hi - lo, 5);
    char buf[64];
    for (double t = ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
        tick_label(buf, sizeof buf, t, step);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", bx + 18,
                fr.top + fr.h - (t - lo) / (hi - lo) * fr.h + 4, buf);
    }
    if (bar_label) {
        fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(90)\" text-anchor=\"middle\">",
                bx + 58, fr.top + fr.h / 2);
        cg_xml_text(f, bar_label);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</g>\n");
    end(f);
}

/* ---- box plots ---- */

void cg_svg_boxes(FILE *f, const cg_plot *p, const cg_values *groups, int n_groups) {
    double lo = INFINITY, hi = -INFINITY;
    for (int g = 0; g < n_groups; g++)
        range_of(groups[g].v, groups[g].n, &lo, &hi);
    frame fr;
    fr.x0 = 0.4;
    fr.x1 = n_groups + 0.6;
    limits(p->ymin, p->ymax, lo, hi, &fr.y0, &fr.y1);
    legend_key keys[24] = {{0}};
    int nk = 0;
    for (int g = 0; g < n_groups && nk < 24; g++)
        keys[nk++] = (legend_key){groups[g].label, g, KEY_BAND, 0, false};
    begin_frame(f, p, &fr, keys, nk, 0, false);
    /* The groups' names under their boxes; where they would run into each other (about 7
     * pixels a character), smaller and broken at ", " onto two lines. */
    size_t longest = 0;
    for (int g = 0; g < n_groups; g++)
        longest = strlen(groups[g].label) > longest ? strlen(groups[g].label) : longest;
    bool crowded = 7.0 * (double)longest > fr.w / (n_groups > 0 ? n_groups : 1);
    for (int g = 0; g < n_groups; g++) {
        const char *label = groups[g].label, *cut = crowded ? strstr(label, ", ") : NULL;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\"%s>", px(&fr, g + 1),
                fr.top + fr.h + 16, crowded ? " font-size=\"10\"" : "");
        if (cut) {
            char first[256];
            snprintf(first, sizeof first, "%.*s", (int)(cut - label), label);
            cg_xml_text(f, first);
            fprintf(f, "<tspan x=\"%.1f\" dy=\"12\">", px(&fr, g + 1));
            cg_xml_text(f, cut + 2);
            fprintf(f, "</tspan>");
        } else {
            cg_xml_text(f, label);
        }
        fprintf(f, "</text>\n");
    }
    for (int g = 0; g < n_groups; g++) {
        const cg_values *v = &groups[g];
        double q1 = cg_stats_quantile(v->v, v->n, 0.25), med = cg_stats_quantile(v->v, v->n, 0.5);
        double q3 = cg_stats_quantile(v->v, v->n, 0.75), iqr = q3 - q1;
        double wl = INFINITY, wh = -INFINITY;
        for (int i = 0; i < v->n; i++)
            if (v->v[i] >= q1 - 1.5 * iqr && v->v[i] <= q3 + 1.5 * iqr) {
                wl = v->v[i] < wl ? v->v[i] : wl;
                wh = v->v[i] > wh ? v->v[i] : wh;
            }
        if (!isfinite(q1))
            continue;
        double cx = px(&fr, g + 1), bw = fr.w / (n_groups + 0.2) * 0.25;
        const char *c = colour(g);
        fprintf(f, "<g class=\"box\" data-label=\"");
        cg_xml_text(f, v->label);
        fprintf(f, "\" stroke=\"%s\">\n", c);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cx, py(&fr, wl), cx,
                py(&fr, q1));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cx, py(&fr, q3), cx,
                py(&fr, wh));
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                   "fill-opacity=\"0.3\"/>\n",
                cx - bw, py(&fr, q3), 2 * bw, py(&fr, q1) - py(&fr, q3), c);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"2.5\"/>\n",
                cx - bw, py(&fr, med), cx + bw, py(&fr, med));
        for (int i = 0; i < v->n; i++)
            if (isfinite(v->v[i]) && (v->v[i] < wl || v->v[i] > wh))
                fprintf(f, "<circle class=\"outlier\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                           "fill=\"none\"/>\n",
                        cx, py(&fr, v->v[i]));
        fprintf(f, "</g>\n");
    }
    end(f);
}
