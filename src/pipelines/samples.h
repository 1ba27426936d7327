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
 * (and the stage when there are several); without_roc leaves out the ROC figures (a sweep
 * draws them per variant of the file, cg_samples_roc_sweep). */
cg_status cg_samples_figures(const cg_experiment *e, const cg_exp_stage *sg,
                             const cg_samples *splits, int n_splits, const char *dir,
                             const char *variant, bool without_roc);

/* One ROC curve: its points and area. */
typedef struct cg_roc_curve {
    char name[CG_EXP_NAME]; /* the run variant it is of */
    double *fpr, *tpr;
    int n;
    double auc;
} cg_roc_curve;

/* The ROC curve of a roc figure's score on one split (the first it applies to); c->n is 0 when
 * the split lacks the values or there is no memory. Freed with cg_roc_curve_free. */
void cg_samples_roc_curve(const cg_exp_sample_item *it, const cg_samples *s, cg_roc_curve *c);
void cg_roc_curve_free(cg_roc_curve *c);

/* The ROC curves of a sweep's runs of one variant in one figure, labelled by the sweep's value
 * names, with their mean (the true-positive rate averaged at each false-positive rate) and the
 * mean area; written to dir/figures/samples-<variant>-sweep-roc-<score>.svg. */
cg_status cg_samples_roc_sweep(const char *dir, const char *variant, const char *sweep_key,
                               const cg_exp_sample_item *it, const cg_roc_curve *curves,
                               const char *const *labels, int n);

/* Draws an images figure of one split as a PNG: a row per value (rows[k]: count images of
 * chw[k] = channels, height, width), a column per sample, beside each row the value's name, or
 * with labels (n_rows of them, up to CG_SAMPLES_MAX_ROWS) each row's label: one value of several
 * variants, a row each. */
#define CG_SAMPLES_MAX_ROWS 8
cg_status cg_samples_images(const cg_experiment *e, const cg_exp_stage *sg,
                            const cg_exp_sample_item *it, const char *split, int count,
                            const float *const *rows, const int (*chw)[3], const char *dir,
                            const char *variant, const char *const *labels, int n_rows);

#endif
