/* Raster images and PNG output (see raster.h). */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/common.h"
#include "core/raster.h"

cg_status cg_raster_create(int w, int h, cg_raster *out) {
    out->w = w;
    out->h = h;
    out->rgb = w > 0 && h > 0 ? malloc((size_t)w * (size_t)h * 3) : NULL;
    if (!out->rgb)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for a %dx%d image", w, h);
    memset(out->rgb, 255, (size_t)w * (size_t)h * 3);
    return CG_OK;
}

void cg_raster_free(cg_raster *c) {
    free(c->rgb);
    c->rgb = NULL;
}

void cg_raster_put(cg_raster *c, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    uint8_t *p = c->rgb + 3 * ((size_t)y * (size_t)c->w + (size_t)x);
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

enum { SCALE = 2 };

int cg_raster_text_width(const char *s) {
    return (int)strlen(s) * CG_RASTER_CHAR_W;
}

void cg_raster_text(cg_raster *c, int x, int y, const char *s) {
    for (; *s; s++, x += CG_RASTER_CHAR_W) {
        char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        for (size_t g = 0; g < CG__ARRAY_LEN(font); g++) {
            if (font[g].ch != ch)
                continue;
            for (int r = 0; r < 5; r++)
                for (int b = 0; b < 3; b++)
                    if (font[g].rows[r] & (4 >> b))
                        for (int dy = 0; dy < SCALE; dy++)
                            for (int dx = 0; dx < SCALE; dx++)
                                cg_raster_put(c, x + b * SCALE + dx, y + r * SCALE + dy, 0, 0, 0);
        }
    }
}

cg_status cg_raster_write_png(const cg_raster *c, const char *path, const char *title) {
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
    png_text text;
    if (title) {
        memset(&text, 0, sizeof text);
        text.compression = PNG_TEXT_COMPRESSION_NONE;
        text.key = (char *)"Title";
        text.text = (char *)title;
        png_set_text(png, info, &text, 1);
    }
    png_write_info(png, info);
    for (int y = 0; y < c->h; y++)
        png_write_row(png, c->rgb + 3 * (size_t)y * (size_t)c->w);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f) != 0)
        return cg__error(CG_ERR_IO, "writing %s failed", path);
    return CG_OK;
}

/* The tEXt chunk that cg_raster_write_png writes comes before the image data, uncompressed:
 * "tEXt" "Title" NUL text, its length in the four bytes before "tEXt". */
void cg_raster_png_title(const char *path, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    unsigned char head[4096];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    static const char key[] = "tEXtTitle";
    for (size_t i = 4; i + sizeof key < n; i++) {
        if (memcmp(head + i, key, sizeof key) != 0) /* sizeof key counts the NUL */
            continue;
        size_t len = (size_t)head[i - 4] << 24 | (size_t)head[i - 3] << 16 |
                     (size_t)head[i - 2] << 8 | head[i - 1];
        size_t text_len = len > 6 ? len - 6 : 0, at = i + sizeof key;
        if (at + text_len > n)
            text_len = n - at;
        if (text_len >= cap)
            text_len = cap - 1;
        memcpy(out, head + at, text_len);
        out[text_len] = '\0';
        return;
    }
}
