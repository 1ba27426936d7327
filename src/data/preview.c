/* A PNG contact sheet of a dataset: for each split its name, then its first samples, the image
 * arrays of each sample side by side (2x size) and its labels under them; splits of 2-D points
 * (the three rings) as scatter plots. Text uses a built-in 3x5 pixel font drawn at 2x. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

typedef struct canvas {
    int w, h;
    uint8_t *rgb;
} canvas;

static void put(canvas *c, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->rgb + 3 * ((size_t)y * c->w + x);
    p[0] = r, p[1] = g, p[2] = b;
}

/* Each glyph: five rows of three bits, the left pixel the highest bit. */
static const struct {
    char ch;
    uint8_t rows[5];
} font[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'a', {2, 5, 7, 5, 5}}, {'b', {6, 5, 6, 5, 6}},
    {'c', {3, 4, 4, 4, 3}}, {'d', {6, 5, 5, 5, 6}}, {'e', {7, 4, 6, 4, 7}}, {'f', {7, 4, 6, 4, 4}},
    {'g', {3, 4, 5, 5, 3}}, {'h', {5, 5, 7, 5, 5}}, {'i', {7, 2, 2, 2, 7}}, {'j', {1, 1, 1, 5, 2}},
    {'k', {5, 5, 6, 5, 5}}, {'l', {4, 4, 4, 4, 7}}, {'m', {5, 7, 7, 5, 5}}, {'n', {6, 5, 5, 5, 5}},
    {'o', {2, 5, 5, 5, 2}}, {'p', {6, 5, 6, 4, 4}}, {'q', {2, 5, 5, 6, 3}}, {'r', {6, 5, 6, 5, 5}},
    {'s', {3, 4, 2, 1, 6}}, {'t', {7, 2, 2, 2, 2}}, {'u', {5, 5, 5, 5, 7}}, {'v', {5, 5, 5, 5, 2}},
    {'w', {5, 5, 7, 7, 5}}, {'x', {5, 5, 2, 5, 5}}, {'y', {5, 5, 2, 2, 2}}, {'z', {7, 1, 2, 4, 7}},
    {'=', {0, 7, 0, 7, 0}}, {'-', {0, 0, 7, 0, 0}}, {'_', {0, 0, 0, 0, 7}}, {':', {0, 2, 0, 2, 0}},
    {'.', {0, 0, 0, 0, 2}}, {',', {0, 0, 0, 2, 4}}, {'(', {1, 2, 2, 2, 1}}, {')', {4, 2, 2, 2, 4}},
    {'/', {1, 1, 2, 4, 4}},
};

enum { SCALE = 2, CHAR_W = 4 * SCALE, LINE_H = 7 * SCALE };

static int text_width(const char *s) {
    return (int)strlen(s) * CHAR_W;
}

static void text(canvas *c, int x, int y, const char *s) {
    for (; *s; s++, x += CHAR_W) {
        char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        for (size_t g = 0; g < CG__ARRAY_LEN(font); g++) {
            if (font[g].ch != ch)
                continue;
            for (int r = 0; r < 5; r++)
                for (int b = 0; b < 3; b++)
                    if (font[g].rows[r] & (4 >> b))
                        for (int dy = 0; dy < SCALE; dy++)
                            for (int dx = 0; dx < SCALE; dx++)
                                put(c, x + b * SCALE + dx, y + r * SCALE + dy, 0, 0, 0);
        }
    }
}

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
    *w = text_width(title) + 2 * PAD;
    *h = LINE_H + PAD;
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
        int cw = iw > text_width(label) ? iw : text_width(label);
        x += cw + PAD;
        cell_h = cell_h > ih + LINE_H + 4 ? cell_h : ih + LINE_H + 4;
    }
    *w = *w > x ? *w : x;
    *h += cell_h + PAD;
}

static void draw_points(canvas *c, const cg_split *s, int x0, int y0) {
    const cg_array *x = NULL, *y = NULL;
    for (int k = 0; k < s->n_arrays; k++) {
        if (is_points(&s->arrays[k]))
            x = &s->arrays[k];
        else if (s->arrays[k].dtype == CG_I32 && s->arrays[k].shape.ndim == 1)
            y = &s->arrays[k];
    }
    static const uint8_t colours[4][3] = {{200, 40, 40}, {40, 140, 40}, {40, 60, 200}, {120, 120, 120}};
    for (int i = 0; i < PLOT; i++) { /* frame */
        put(c, x0 + i, y0, 0, 0, 0), put(c, x0 + i, y0 + PLOT - 1, 0, 0, 0);
        put(c, x0, y0 + i, 0, 0, 0), put(c, x0 + PLOT - 1, y0 + i, 0, 0, 0);
    }
    for (int i = 0; i < x->shape.d[0]; i++) {
        float px = ((const float *)x->data)[2 * i], py = ((const float *)x->data)[2 * i + 1];
        int cx = x0 + (int)((px + 2) / 4 * (PLOT - 1)), cy = y0 + (int)((2 - py) / 4 * (PLOT - 1));
        int ci = y ? ((const int32_t *)y->data)[i] % 3 : 3;
        put(c, cx, cy, colours[ci][0], colours[ci][1], colours[ci][2]);
    }
}

static void draw_split(canvas *c, const cg_split *s, int samples, int y0) {
    char title[96];
    snprintf(title, sizeof title, "%s (%d)", s->name, cg_split_count(s));
    text(c, PAD, y0, title);
    y0 += LINE_H + PAD;
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
                        put(c, ix + xx, y0 + yy, (uint8_t)v[0], (uint8_t)v[1], (uint8_t)v[2]);
                    }
                ix += W * sc + 2;
            }
            ih = ih > H * sc ? ih : H * sc;
        }
        char label[160];
        label_of(s, i, label, sizeof label);
        text(c, x, y0 + ih + 4, label);
        int cw = ix - x > text_width(label) ? ix - x : text_width(label);
        x += cw + PAD;
    }
}

static cg_status write_png(const canvas *c, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return cg__error(CG_ERR_IO, "cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        fclose(f);
        return cg__error(CG_ERR_IO, "libpng failed while writing %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->rgb + 3 * (size_t)y * c->w);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        return cg__error(CG_ERR_IO, "writing %s failed", path);
    return CG_OK;
}

cg_status cg_dataset_preview_png(const cg_dataset *d, const char *path, int samples) {
    int w = 64, h = PAD;
    for (int s = 0; s < d->n_splits; s++) {
        int sw, sh;
        split_size(&d->splits[s], samples, &sw, &sh);
        w = w > sw ? w : sw;
        h += sh;
    }
    canvas c = {w, h, malloc((size_t)w * h * 3)};
    if (!c.rgb)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a %dx%d preview", w, h);
    memset(c.rgb, 255, (size_t)w * h * 3);
    int y = PAD;
    for (int s = 0; s < d->n_splits; s++) {
        int sw, sh;
        split_size(&d->splits[s], samples, &sw, &sh);
        draw_split(&c, &d->splits[s], samples, y);
        y += sh;
    }
    cg_status st = write_png(&c, path);
    free(c.rgb);
    return st;
}
