/* The selftest runner: compiles every embedded .cl file, then runs the known-answer check of
 * every kernel it contains. A kernel without a check is itself a failure, so a new kernel cannot
 * be added without one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "selftest/selftest_internal.h"

/* Every family's checks. Adding a kernel family adds one row here. */
static const struct {
    const cg__selftest_case *cases;
    const size_t *count;
} suites[] = {
    {cg__core_checks, &cg__core_check_count},
    {cg__elementwise_checks, &cg__elementwise_check_count},
    {cg__conv_checks, &cg__conv_check_count},
    {cg__pool_checks, &cg__pool_check_count},
    {cg__random_checks, &cg__random_check_count},
    {cg__loss_checks, &cg__loss_check_count},
    {cg__optim_checks, &cg__optim_check_count},
};

bool cg__selftest_compare(const float *got, const double *want, size_t n, double atol,
                          double rtol, char *detail, size_t cap) {
    size_t bad = 0, used = 0;
    detail[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (err <= atol + rtol * fabs(want[i]) && !isnan(got[i]))
            continue;
        if (bad < 3 && used < cap) {
            int w = snprintf(detail + used, cap - used, "%s[%zu] got %.7g want %.7g",
                             bad ? "; " : "", i, (double)got[i], want[i]);
            used += w > 0 ? (size_t)w : 0;
        }
        bad++;
    }
    if (bad > 3 && used < cap)
        snprintf(detail + used, cap - used, "; %zu of %zu differ", bad, n);
    return bad == 0;
}

cg_status cg__selftest_kernel(cg_context *ctx, const char *program, const char *kernel,
                              const cg__check_arg *args, size_t nargs, size_t items, size_t out,
                              const double *want, double tol, bool *passed, char *detail,
                              size_t cap) {
    cl_mem bufs[16] = {0};
    float *got = NULL;
    cl_kernel k = NULL;
    if (nargs > CG__ARRAY_LEN(bufs) || out >= nargs || args[out].kind != CG__ARG_F32_BUF)
        return cg__error(CG_ERR_INVALID_ARGUMENT, "bad self-test description for %s", kernel);
    cg_status st = cg__kernel_create(ctx, program, NULL, kernel, &k);
    for (size_t i = 0; i < nargs && st == CG_OK; i++) {
        const cg__check_arg *a = &args[i];
        cl_int err = CL_SUCCESS;
        switch (a->kind) {
        case CG__ARG_F32_BUF:
        case CG__ARG_I32_BUF: {
            size_t bytes = a->n * 4;
            st = cg__buffer_create(ctx, bytes, &bufs[i]);
            if (st == CG_OK)
                st = cg__buffer_write(ctx, bufs[i],
                                      a->kind == CG__ARG_F32_BUF ? (const void *)a->f32s
                                                                 : (const void *)a->i32s,
                                      bytes);
            err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_mem), &bufs[i]);
            break;
        }
        case CG__ARG_F32:
            err = clSetKernelArg(k, (cl_uint)i, sizeof a->f32, &a->f32);
            break;
        case CG__ARG_U32:
            err = clSetKernelArg(k, (cl_uint)i, sizeof a->u32, &a->u32);
            break;
        case CG__ARG_I32:
            err = clSetKernelArg(k, (cl_uint)i, sizeof a->i32, &a->i32);
            break;
        }
        if (st == CG_OK && err != CL_SUCCESS)
            st = cg__cl_fail(err, "clSetKernelArg");
    }
    size_t n = args[out].n;
    if (st == CG_OK && !(got = malloc(n * sizeof *got)))
        st = cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu floats", n);
    if (st == CG_OK)
        st = cg__launch_1d(ctx, k, items, 0);
    if (st == CG_OK)
        st = cg__buffer_read(ctx, bufs[out], got, n * sizeof *got);
    if (st == CG_OK)
        *passed = cg__selftest_compare(got, want, n, tol, tol, detail, cap);
    free(got);
    for (size_t i = 0; i < nargs; i++)
        if (bufs[i])
            clReleaseMemObject(bufs[i]);
    if (k)
        clReleaseKernel(k);
    return st;
}

/* Whether the space-separated list names the kernel. */
static bool covers(const char *list, const char *kernel) {
    size_t n = strlen(kernel);
    for (const char *p = list; (p = strstr(p, kernel)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

cg_status cg__selftest_op(cg_context *ctx, cg_op_host_io *io, const cg__op_expect *want,
                          double tol, bool *passed, char *detail, size_t cap) {
    cg_op_shapes sh;
    memset(&sh, 0, sizeof sh);
    cg_status st = io->op->infer(io->attrs, io->in_shape, io->in_type, io->n_in, &sh);
    if (st != CG_OK)
        return st;
    /* Results land in one allocation: output, input gradients, parameter gradients. */
    size_t n_out = cg_shape_numel(&sh.out), total = n_out;
    for (int i = 0; i < io->n_in; i++)
        total += cg_shape_numel(&io->in_shape[i]);
    for (int i = 0; i < sh.n_params; i++)
        total += cg_shape_numel(&sh.params[i]);
    float *buf = calloc(total, sizeof *buf);
    if (!buf)
        return cg__error(CG_ERR_OUT_OF_MEMORY, "no memory for %zu results", total);
    float *at = buf;
    io->out = at;
    at += n_out;
    for (int i = 0; i < io->n_in; i++) {
        io->din[i] = io->want_din[i] ? at : NULL;
        at += cg_shape_numel(&io->in_shape[i]);
    }
    for (int i = 0; i < sh.n_params; i++) {
        io->dparams[i] = at;
        at += cg_shape_numel(&sh.params[i]);
    }
    st = cg_op_run_host(ctx, io, NULL);
    *passed = st == CG_OK;
    const char *part = "out";
    if (*passed && want->out)
        *passed = cg__selftest_compare(io->out, want->out, n_out, tol, tol, detail, cap);
    for (int i = 0; i < io->n_in && *passed; i++)
        if (want->din[i] && io->din[i]) {
            part = "din";
            *passed = cg__selftest_compare(io->din[i], want->din[i],
                                           cg_shape_numel(&io->in_shape[i]), tol, tol, detail,
                                           cap);
        }
    for (int i = 0; i < sh.n_params && *passed; i++)
        if (want->dparams[i]) {
            part = "dparam";
            *passed = cg__selftest_compare(io->dparams[i], want->dparams[i],
                                           cg_shape_numel(&sh.params[i]), tol, tol, detail, cap);
        }
    if (!*passed && st == CG_OK) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s: %s", part, detail);
        snprintf(detail, cap, "%s", tmp);
    }
    free(buf);
    return st;
}

static const cg__selftest_case *find_case(const char *program, const char *kernel) {
    for (size_t s = 0; s < CG__ARRAY_LEN(suites); s++)
        for (size_t i = 0; i < *suites[s].count; i++) {
            const cg__selftest_case *c = &suites[s].cases[i];
            if (strcmp(c->program, program) == 0 && covers(c->kernels, kernel))
                return c;
        }
    return NULL;
}

static bool is_source_file(const char *program) {
    for (size_t i = 0; i < cg__kernel_source_count; i++)
        if (strcmp(cg__kernel_sources[i].name, program) == 0)
            return true;
    return false;
}

static void run_case(cg_context *ctx, const cg__selftest_case *c, cg_selftest_callback cb,
                     void *user, int *failures) {
    char detail[1024] = "";
    bool passed = false;
    double t0 = cg__now_ms();
    cg_status st = c->run(ctx, &passed, detail, sizeof detail);
    if (st != CG_OK) {
        passed = false;
        snprintf(detail, sizeof detail, "%s", cg_error_message());
    }
    cg_selftest_line line = {CG_SELFTEST_KERNEL, c->kernels, c->program, passed,
                             cg__now_ms() - t0, detail};
    if (!passed)
        (*failures)++;
    cb(&line, user);
}

cg_status cg_selftest_run(cg_context *ctx, cg_selftest_callback cb, void *user, int *failures) {
    *failures = 0;
    for (size_t f = 0; f < cg__kernel_source_count; f++) {
        const char *file = cg__kernel_sources[f].name;
        cl_program prog;
        cg__program_origin origin;
        double ms = 0;
        cg_status st = cg__program_get(ctx, file, NULL, &prog, &origin, &ms);
        cg_selftest_line line = {CG_SELFTEST_PROGRAM, file, file, st == CG_OK, ms,
                                 st == CG_OK ? cg__program_origin_str(origin)
                                             : cg_error_message()};
        if (st != CG_OK)
            (*failures)++;
        cb(&line, user);
        if (st != CG_OK)
            continue;
        char names[8192] = "";
        if (clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, sizeof names, names, NULL) !=
            CL_SUCCESS)
            return cg__error(CG_ERR_OPENCL, "cannot list the kernels of %s", file);
        const cg__selftest_case *done[256];
        size_t n_done = 0;
        for (char *save = NULL, *k = strtok_r(names, ";", &save); k;
             k = strtok_r(NULL, ";", &save)) {
            const cg__selftest_case *c = find_case(file, k);
            if (c) {
                bool ran = false;
                for (size_t i = 0; i < n_done; i++)
                    ran = ran || done[i] == c;
                if (!ran) {
                    run_case(ctx, c, cb, user, failures);
                    if (n_done < CG__ARRAY_LEN(done))
                        done[n_done++] = c;
                }
                continue;
            }
            cg_selftest_line missing = {CG_SELFTEST_KERNEL, k, file, false, 0,
                                        "no known-answer check is registered for this kernel"};
            (*failures)++;
            cb(&missing, user);
        }
    }
    /* Checks of library routines that live outside our .cl files (CLBlast). */
    for (size_t s = 0; s < CG__ARRAY_LEN(suites); s++)
        for (size_t i = 0; i < *suites[s].count; i++)
            if (!is_source_file(suites[s].cases[i].program))
                run_case(ctx, &suites[s].cases[i], cb, user, failures);
    /* Every op's backward against central differences of its forward, on its test cases. */
    for (size_t k = 0; k < cg_op_count(); k++) {
        const cg_op_def *op = cg_op_at(k);
        if (!op->backward)
            continue;
        char detail[1024] = "";
        bool passed = false;
        int cases = 0;
        double t0 = cg__now_ms();
        cg_status st = cg__selftest_gradient(ctx, op->name, &passed, &cases, detail,
                                             sizeof detail);
        if (st != CG_OK) {
            passed = false;
            snprintf(detail, sizeof detail, "%s", cg_error_message());
        } else if (passed) {
            snprintf(detail, sizeof detail, "%d case%s", cases, cases == 1 ? "" : "s");
        }
        if (cases == 0)
            continue; /* nothing differentiable in its rows (metrics, probes) */
        cg_selftest_line line = {CG_SELFTEST_GRADIENT, op->name, "ops", passed,
                                 cg__now_ms() - t0, detail};
        if (!passed)
            (*failures)++;
        cb(&line, user);
    }
    return CG_OK;
}
