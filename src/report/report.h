/* A results folder's report, built from the folder's own files: run.json (what ran: the
 * experiment, command line, device, variants, the report's figures), metrics.csv and
 * device.txt. It writes summary.json (each variant's final-epoch values per metric: mean,
 * standard deviation, 95% interval from 3 repeats, Welch's test against the reference variant),
 * the figures as SVG under figures/, and report.html, which shows the table and every figure
 * inline and links every file; it opens offline in any browser. `clgraph report RUNDIR` and the
 * end of `clgraph run` both call it. */
#ifndef CG_REPORT_REPORT_H
#define CG_REPORT_REPORT_H

#include <stdio.h>

#include "clgraph/status.h"

/* Builds the report of dir; the final table also goes to table (may be NULL). */
cg_status cg_report_build(const char *dir, FILE *table);

#endif
