/* A PNG contact sheet of a dataset: for each split its name, then its first samples, the image
 * arrays of each sample side by side (2x size) and its labels under them; splits of 2-D points
 * (the three rings) as scatter plots. Text uses a built-in 3x5 pixel font drawn at 2x. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/raster.h"
#include "data/data.h"

static bool is_image(const cg_array *a) {
    return a->dtype == CG_F32 && a->shape.ndim == 4 && a->shape.d[1] >= 1 && a->shape.d[1] <= 3;
}

static bool is_points(const cg_array *a) {
    return a->dtype == CG_F32 && a->shape.ndim == 2 && a->shape.d[1] == 2 && strcmp(a->name, "x") == 0;
}

/* Image tiles of one sample: 3 channels are one colour tile; 1 or 2 channels one grey tile
 * each (the two digits of a comparison pair). */
static int tiles_of(const cg_array *a) {
    return a->shape.d[1] == 3 ? 1 : a->shape.d[1];
}

static int image_scale(const cg_array *a) {
    return a->shape.d[2] <= 16 ? 4 : 2;
}

/* The label line of sample i: name=value for the 1-D arrays, a,b for (N, 2) int arrays. */
static void label_of(const cg_split *s, int i, char *out, size_t cap) {
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < s->n_arrays && used < cap; k++) {
        const cg_array *a = &s->arrays[k];
        int w = 0;
        if (a->shape.ndim == 1 && a->dtype == CG_I32)
            w = snprintf(out + used, cap - used, "%s%s=%d", used ? " " : "", a->name,
                         ((const int32_t *)a->data)[i]);
        else if (a->shape.ndim == 1)
            w = snprintf(out + used, cap - used, "%s%s=%g", used ? " " : "", a->name,
                         (double)((const float *)a->data)[i]);
        else if (a->shape.ndim == 2 && a->dtype == CG_I32 && a->shape.d[1] == 2)
            w = snprintf(out + used, cap - used, "%s%s=%d,%d", used ? " " : "", a->name,
                         ((const int32_t *)a->data)[2 * i], ((const int32_t *)a->data)[2 * i + 1]);
        used += w > 0 ? (size_t)w : 0;
    }
}

enum { PAD = 8, PLOT = 256 };

/* The size of a split's row: its title and its cells, or a scatter plot. */
static void split_size(const cg_split *s, int samples, int *w, int *h) {
    char title[96];
    snprintf(title, sizeof title, "%s (%d)", s->name, cg_split_count(s));
    *w = cg_raster_text_width(title) + 2 * PAD;
    *h = CG_RASTER_LINE_H + PAD;
    for (int k = 0; k < s->n_arrays; k++)
        if (is_points(&s->arrays[k])) {
            *w = *w > PLOT + 2 * PAD ? *w : PLOT + 2 * PAD;
            *h += PLOT + PAD;
            return;
        }
    int n = cg_split_count(s) < samples ? cg_split_count(s) : samples, x = PAD, cell_h = 0;
    for (int i = 0; i < n; i++) {
        int iw = 0, ih = 0;
        for (int k = 0; k < s->n_arrays; k++)
            if (is_image(&s->arrays[k])) {
                int sc = image_scale(&s->arrays[k]);
                iw += tiles_of(&s->arrays[k]) * (s->arrays[k].shape.d[3] * sc + 2);
                ih = ih > s->arrays[k].shape.d[2] * sc ? ih : s->arrays[k].shape.d[2] * sc;
            }
        char label[160];
        label_of(s, i, label, sizeof label);
        int cw = iw > cg_raster_text_width(label) ? iw : cg_raster_text_width(label);
        x += cw + PAD;
        cell_h = cell_h > ih + CG_RASTER_LINE_H + 4 ? cell_h : ih + CG_RASTER_LINE_H + 4;
    }
    *w = *w > x ? *w : x;
    *h += cell_h + PAD;
}

static void draw_points(cg_raster *c, const cg_split *s, int x0, int y0) {
    const cg_array *x = NULL, *y = NULL;
    for (int k = 0; k < s->n_arrays; k++) {
        if (is_points(&s->arrays[k]))
            x = &s->arrays[k];
        else if (s->arrays[k].dtype == CG_I32 && s->arrays[k].shape.ndim == 1)
            y = &s->arrays[k];
    }
    static const uint8_t colours[4][3] = {{200, 40, 40}, {40, 140, 40}, {40, 60, 200}, {120, 120, 120}};
    for (int i = 0; i < PLOT; i++) { /* frame */
        cg_raster_put(c, x0 + i, y0, 0, 0, 0), cg_raster_put(c, x0 + i, y0 + PLOT - 1, 0, 0, 0);
        cg_raster_put(c, x0, y0 + i, 0, 0, 0), cg_raster_put(c, x0 + PLOT - 1, y0 + i, 0, 0, 0);
    }
    for (int i = 0; i < x->shape.d[0]; i++) {
        float px = ((const float *)x->data)[2 * i], py = ((const float *)x->data)[2 * i + 1];
        int cx = x0 + (int)((px + 2) / 4 * (PLOT - 1)), cy = y0 + (int)((2 - py) / 4 * (PLOT - 1));
        int ci = y ? ((const int32_t *)y->data)[i] % 3 : 3;
        cg_raster_put(c, cx, cy, colours[ci][0], colours[ci][1], colours[ci][2]);
    }
}

static void draw_split(cg_raster *c, const cg_split *s, int samples, int y0) {
    char title[96];
    snprintf(title, sizeof title, "%s (%d)", s->name, cg_split_count(s));
    cg_raster_text(c, PAD, y0, title);
    y0 += CG_RASTER_LINE_H + PAD;
    for (int k = 0; k < s->n_arrays; k++)
        if (is_points(&s->arrays[k])) {
            draw_points(c, s, PAD, y0);
            return;
        }
    int n = cg_split_count(s) < samples ? cg_split_count(s) : samples, x = PAD;
    for (int i = 0; i < n; i++) {
        int ix = x, ih = 0;
        for (int k = 0; k < s->n_arrays; k++) {
            const cg_array *a = &s->arrays[k];
            if (!is_image(a))
                continue;
            int C = a->shape.d[1], H = a->shape.d[2], W = a->shape.d[3], sc = image_scale(a);
            const float *img = (const float *)a->data + (size_t)i * C * H * W;
            for (int t = 0; t < tiles_of(a); t++) {
                for (int yy = 0; yy < H * sc; yy++)
                    for (int xx = 0; xx < W * sc; xx++) {
                        size_t p = (size_t)(yy / sc) * W + xx / sc;
                        float v[3];
                        for (int ch = 0; ch < 3; ch++) {
                            float f = C == 3 ? img[ch * H * W + p] : img[t * H * W + p];
                            v[ch] = f < 0 ? 0 : f > 1 ? 255 : f * 255;
                        }
                        cg_raster_put(c, ix + xx, y0 + yy, (uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2]);
                    }
                ix += W * sc + 2;
            }
            ih = ih > H * sc ? ih : H * sc;
        }
        char label[160];
        label_of(s, i, label, sizeof label);
        cg_raster_text(c, x, y0 + ih + 4, label);
        int cw = ix - x > cg_raster_text_width(label) ? ix - x : cg_raster_text_width(label);
        x += cw + PAD;
    }
}

cg_status cg_dataset_preview_png(const cg_dataset *d, const char *path, int samples) {
    int w = 64, h = PAD;
    for (int s = 0; s < d->n_splits; s++) {
        int sw, sh;
        split_size(&d->splits[s], samples, &sw, &sh);
        w = w > sw ? w : sw;
        h += sh;
    }
    cg_raster c;
    cg_status st = cg_raster_create(w, h, &c);
    if (st != CG_OK)
        return st;
    int y = PAD;
    for (int s = 0; s < d->n_splits; s++) {
        int sw, sh;
        split_size(&d->splits[s], samples, &sw, &sh);
        draw_split(&c, &d->splits[s], samples, y);
        y += sh;
    }
    st = cg_raster_write_png(&c, path, NULL);
    cg_raster_free(&c);
    return st;
}
