/* `clgraph report RUNDIR`: rebuilds a results folder's report (summary.json, figures/,
 * report.html) from its files, and prints the final table. */
#include <stdio.h>

#include "cli/cli.h"
#include "clgraph/clgraph.h"
#include "core/common.h"
#include "report/report.h"

int cmd_report(int argc, char **argv) {
    const char *pos[1];
    size_t n_pos = 0;
    bool help = false;
    int rc = cli_parse("report", "RUNDIR",
                       "Rebuilds the report of a results folder from its files (run.json, "
                       "metrics.csv): summary.json,\nthe figures under figures/ and report.html, "
                       "which opens offline in any browser; prints\nthe final table.",
                       argc, argv, NULL, 0, pos, 1, &n_pos, &help);
    if (rc != CLI_OK || help)
        return rc;
    if ((rc = cli_one_run_dir("report", n_pos)) != CLI_OK)
        return rc;
    cg_status st = cg_report_build(pos[0], stdout);
    if (st != CG_OK) {
        fprintf(stderr, "clgraph report: error: %s\n", cg_error_message());
        return CLI_FAILED;
    }
    fprintf(stderr, "wrote %s/report.html\n", pos[0]);
    return CLI_OK;
}
