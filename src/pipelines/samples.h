/* What an evaluation block makes of the values collected per sample over its splits: the
 * statistics (AUC, mean, quantile; recorded as metrics) and the figures (scatter plots,
 * histograms of two groups, ROC curves) that the block declares (experiment.h,
 * cg_exp_sample_item). Host-only: the values were read from the device once per split. */
#ifndef CG_PIPELINES_SAMPLES_H
#define CG_PIPELINES_SAMPLES_H

#include "exp/experiment.h"

/* The values collected over one evaluation split. */
typedef struct cg_samples {
    const cg_split *split;
    int n;                              /* samples */
    int n_values;
    const char *names[CG_EXP_MAX_COLLECT];
    int width[CG_EXP_MAX_COLLECT];      /* numbers per sample */
    float *rows[CG_EXP_MAX_COLLECT];    /* n x width each */
} cg_samples;

void cg_samples_free(cg_samples *s);

/* Each statistic of the stage on split all[which] (the other splits give the references and
 * groups that some statistics read); out[i] is NaN where the split lacks what it reads. */
cg_status cg_samples_statistics(const cg_experiment *e, const cg_exp_stage *sg,
                                const cg_samples *all, int n_all, int which, double *out);

/* Draws the stage's figures of the collected values into dir/figures/, named after the variant
 * (and the stage when there are several). */
cg_status cg_samples_figures(const cg_experiment *e, const cg_exp_stage *sg,
                             const cg_samples *splits, int n_splits, const char *dir,
                             const char *variant);

/* Draws an images figure of one split as a PNG: a row per value (rows[k]: count images of
 * chw[k] = channels, height, width), a column per sample, beside each row the value's name. */
cg_status cg_samples_images(const cg_experiment *e, const cg_exp_stage *sg,
                            const cg_exp_sample_item *it, const char *split, int count,
                            const float *const *rows, const int (*chw)[3], const char *dir,
                            const char *variant);

#endif
