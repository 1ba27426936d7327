/* Backgrounds for the digit pipelines, and the rule that puts a digit on one.
 *
 * The built-in source is procedural: CIFAR-10 cannot be shipped, and textures made from a seed
 * need no files, are the same on every machine, and can be told apart by a network (which is
 * the point: in training each class sees its own backgrounds, a spurious cue). Each texture
 * mixes what natural-image patches have: a smooth two-colour gradient field (four random
 * sinusoids of 0.5 to 3 cycles per image, in random directions), blotches of a third colour
 * from value noise on a coarse 4x4 grid, and fine grain from noise on an 8x8 grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data.h"

enum { S = 32, PLANE = S * S };

void cg_backgrounds_free(cg_backgrounds *b) {
    if (!b)
        return;
    free(b->rgb);
    memset(b, 0, sizeof *b);
}

/* Bilinear value noise: a (g+1) x (g+1) grid of random values over the image. */
static float value_noise(const float *grid, int g, int x, int y) {
    float fx = (float)x * g / S, fy = (float)y * g / S;
    int ix = (int)fx, iy = (int)fy;
    float tx = fx - ix, ty = fy - iy;
    const float *r0 = grid + iy * (g + 1), *r1 = r0 + (g + 1);
    float top = r0[ix] * (1 - tx) + r0[ix + 1] * tx, bot = r1[ix] * (1 - tx) + r1[ix + 1] * tx;
    return top * (1 - ty) + bot * ty;
}

static void texture(float *out, uint64_t seed, int index) {
    cg__rng r;
    cg__rng_init(&r, seed, 0x62670000u + (uint32_t)index);
    float col[3][3];
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            col[k][c] = (float)cg__rng_uniform(&r);
    float fx[4], fy[4], ph[4];
    for (int k = 0; k < 4; k++) {
        double freq = 0.5 + 2.5 * cg__rng_uniform(&r), ang = 6.283185307 * cg__rng_uniform(&r);
        fx[k] = (float)(freq * cos(ang) * 6.283185307 / S);
        fy[k] = (float)(freq * sin(ang) * 6.283185307 / S);
        ph[k] = (float)(6.283185307 * cg__rng_uniform(&r));
    }
    float coarse[25], fine[81];
    for (int i = 0; i < 25; i++)
        coarse[i] = (float)cg__rng_uniform(&r);
    for (int i = 0; i < 81; i++)
        fine[i] = (float)cg__rng_uniform(&r) - 0.5f;
    float blotch = 0.3f + 0.4f * (float)cg__rng_uniform(&r), grain = 0.25f * (float)cg__rng_uniform(&r);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            float f = 0;
            for (int k = 0; k < 4; k++)
                f += sinf(fx[k] * x + fy[k] * y + ph[k]);
            f = 0.5f + f / 8.0f; /* in [0, 1] */
            float b = value_noise(coarse, 4, x, y);
            b = b > 0.6f ? blotch * (b - 0.6f) / 0.4f : 0.0f;
            float n = grain * value_noise(fine, 8, x, y);
            for (int c = 0; c < 3; c++) {
                float v = col[0][c] * (1 - f) + col[1][c] * f;
                v = v * (1 - b) + col[2][c] * b + n;
                out[c * PLANE + y * S + x] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        }
}

cg_status cg_backgrounds_procedural(int n, uint64_t seed, cg_backgrounds *out) {
    out->n = n;
    out->rgb = malloc((size_t)(n ? n : 1) * 3 * PLANE * sizeof(float));
    if (!out->rgb)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d backgrounds", n);
    for (int i = 0; i < n; i++)
        texture(out->rgb + (size_t)i * 3 * PLANE, seed, i);
    return CG_OK;
}

cg_status cg_backgrounds_from_images(const cg_images *im, int n, uint64_t seed,
                                     cg_backgrounds *out) {
    if (im->c != 3 || im->h != S || im->w != S)
        return cg__error(CG_ERR_SHAPE, "backgrounds must be 3x32x32 colour images, not %dx%dx%d",
                         im->c, im->h, im->w);
    if (n > im->n)
        return cg__error(CG_ERR_INVALID_ARGUMENT,
                         "%d backgrounds wanted but the image set holds only %d; use fewer "
                         "background pools or more CIFAR-10 batches",
                         n, im->n);
    int *order = malloc((size_t)(im->n ? im->n : 1) * sizeof *order);
    out->rgb = malloc((size_t)(n ? n : 1) * 3 * PLANE * sizeof(float));
    if (!order || !out->rgb) {
        free(order);
        cg_backgrounds_free(out);
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %d backgrounds", n);
    }
    for (int i = 0; i < im->n; i++)
        order[i] = i;
    cg__rng r;
    cg__rng_init(&r, seed, 0x62670001u);
    cg__rng_shuffle(&r, order, im->n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3 * PLANE; k++)
            out->rgb[(size_t)i * 3 * PLANE + k] = im->pixels[(size_t)order[i] * 3 * PLANE + k] / 255.0f;
    out->n = n;
    free(order);
    return CG_OK;
}

void cg_composite_digit(float *out, const float *bg, const uint8_t *digit) {
    double lum = 0;
    for (int k = 0; k < PLANE; k++)
        lum += 0.299 * bg[k] + 0.587 * bg[PLANE + k] + 0.114 * bg[2 * PLANE + k];
    float ink = lum / PLANE < 0.5 ? 1.0f : 0.0f;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int dy = y - 2, dx = x - 2; /* the 28x28 digit sits 2 pixels in */
                float a = dy >= 0 && dy < 28 && dx >= 0 && dx < 28 ? digit[dy * 28 + dx] / 255.0f : 0;
                int k = c * PLANE + y * S + x;
                out[k] = (1 - a) * bg[k] + a * ink;
            }
}
