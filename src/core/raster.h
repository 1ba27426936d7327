/* Raster images: an RGB canvas, a built-in 3x5 pixel font drawn at 2x for labels, and PNG
 * output (libpng) with a title in a tEXt chunk that the report reads back as the caption. Used
 * by the dataset preview and by the image grids of collected values. */
#ifndef CG_CORE_RASTER_H
#define CG_CORE_RASTER_H

#include <stdint.h>

#include "clgraph/status.h"

typedef struct cg_raster {
    int w, h;
    uint8_t *rgb; /* w x h x 3, rows top to bottom */
} cg_raster;

/* A white canvas; its pixels are freed with cg_raster_free. */
cg_status cg_raster_create(int w, int h, cg_raster *out);
void cg_raster_free(cg_raster *c);

/* Sets one pixel; outside the canvas does nothing. */
void cg_raster_put(cg_raster *c, int x, int y, uint8_t r, uint8_t g, uint8_t b);

/* Text in the built-in font (lower case, digits, = - _ : . , ( ) /; upper case drawn as lower
 * case, other characters as blanks), its top left corner at (x, y). */
enum { CG_RASTER_CHAR_W = 8, CG_RASTER_LINE_H = 14 };
void cg_raster_text(cg_raster *c, int x, int y, const char *s);
int cg_raster_text_width(const char *s);

/* Writes the canvas as an RGB PNG; title (may be NULL) goes into a tEXt "Title" chunk. */
cg_status cg_raster_write_png(const cg_raster *c, const char *path, const char *title);

/* The title a PNG written here carries, into out ("" when it has none or cannot be read). */
void cg_raster_png_title(const char *path, char *out, size_t cap);

#endif
