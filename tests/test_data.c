/* Data loaders: IDX (plain and gzip) and CIFAR-10 round trips on small files written here, every
 * rejection path with its message, and finding datasets (a named folder, CLGRAPH_DATA, the
 * built-in files). Needs no device. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/data.h"
#include "harness.h"

static char dir[] = "/tmp/clgraph-data-XXXXXX";

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static void write_bytes(const char *name, const void *data, size_t n, bool gz) {
    char p[512];
    path_of(p, sizeof p, name);
    if (gz) {
        gzFile f = gzopen(p, "wb");
        gzwrite(f, data, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(p, "wb");
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* An IDX header + data: type 0x08, dims as given. Returns the total size. */
static size_t make_idx(uint8_t *buf, int ndim, const int *dims, uint8_t fill_from) {
    buf[0] = buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (uint8_t)ndim;
    size_t total = 1, at = 4;
    for (int i = 0; i < ndim; i++) {
        buf[at++] = (uint8_t)(dims[i] >> 24);
        buf[at++] = (uint8_t)(dims[i] >> 16);
        buf[at++] = (uint8_t)(dims[i] >> 8);
        buf[at++] = (uint8_t)dims[i];
        total *= (size_t)dims[i];
    }
    for (size_t i = 0; i < total; i++)
        buf[at + i] = (uint8_t)(fill_from + i);
    return at + total;
}

static void expect_error(cg_status st, cg_status want, const char *part, const char *what) {
    CHECK(st == want, "%s: status %s, want %s", what, cg_status_str(st), cg_status_str(want));
    CHECK(strstr(cg_error_message(), part) != NULL, "%s: message '%s' lacks '%s'", what,
          cg_error_message(), part);
}

static void test_idx(void) {
    uint8_t img[256], lab[64];
    const int idims[3] = {3, 4, 5}, ldims[1] = {3};
    size_t ni = make_idx(img, 3, idims, 10), nl = make_idx(lab, 1, ldims, 7);
    for (int gz = 0; gz < 2; gz++) {
        write_bytes(gz ? "img.gz" : "img", img, ni, gz);
        write_bytes(gz ? "lab.gz" : "lab", lab, nl, gz);
        char ip[512], lp[512];
        path_of(ip, sizeof ip, gz ? "img.gz" : "img");
        path_of(lp, sizeof lp, gz ? "lab.gz" : "lab");
        cg_images im;
        CHECK_OK(cg_images_load_idx(ip, lp, &im));
        CHECK(im.n == 3 && im.c == 1 && im.h == 4 && im.w == 5, "shape %d %d %d %d", im.n, im.c,
              im.h, im.w);
        CHECK(im.pixels && im.pixels[0] == 10 && im.pixels[59] == 69, "pixels round trip");
        CHECK(im.labels && im.labels[0] == 7 && im.labels[2] == 9, "labels round trip");
        cg_images_free(&im);
    }
    char ip[512], lp[512], p[512];
    path_of(ip, sizeof ip, "img");
    path_of(lp, sizeof lp, "lab");
    cg_images im;
    int nd, dims[4];
    uint8_t *data;

    uint8_t bad[256];
    memcpy(bad, img, ni);
    bad[1] = 7;
    write_bytes("badmagic", bad, ni, false);
    path_of(p, sizeof p, "badmagic");
    expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE, "badmagic: not an IDX file",
                 "bad magic");
    memcpy(bad, img, ni);
    bad[2] = 0x0D;
    write_bytes("float", bad, ni, false);
    path_of(p, sizeof p, "float");
    expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE, "data type 0x0d", "float type");
    memcpy(bad, img, ni);
    bad[3] = 9;
    write_bytes("dims", bad, ni, false);
    path_of(p, sizeof p, "dims");
    expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE, "9 dimensions", "too many dims");
    write_bytes("short", img, 10, false);
    path_of(p, sizeof p, "short");
    expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE, "truncated inside the header",
                 "short header");
    for (int gz = 0; gz < 2; gz++) {
        write_bytes("trunc", img, ni - 5, gz);
        path_of(p, sizeof p, "trunc");
        expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE,
                     "truncated: the header promises 60 bytes of data, the file holds 55",
                     gz ? "truncated gz" : "truncated");
    }
    memcpy(bad, img, ni);
    for (int gz = 0; gz < 2; gz++) { /* gzip: expanding past what the header promises */
        write_bytes(gz ? "extra.gz" : "extra", bad, ni + 3, gz);
        path_of(p, sizeof p, gz ? "extra.gz" : "extra");
        expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_PARSE, "more data than the header",
                     gz ? "a gzip stream longer than its header says" : "trailing bytes");
    }
    /* A gzip stream whose body is damaged. */
    {
        write_bytes("damaged.gz", img, ni, true);
        path_of(p, sizeof p, "damaged.gz");
        FILE *f = fopen(p, "r+b");
        fseek(f, 12, SEEK_SET);
        for (int i = 0; i < 16; i++)
            fputc(0xA5, f);
        fclose(f);
        cg_status st = cg_idx_read(p, &nd, dims, &data);
        CHECK(st == CG_ERR_PARSE, "damaged gzip is a parse error: %s", cg_status_str(st));
        CHECK(strstr(cg_error_message(), "damaged.gz") != NULL, "names the file: %s",
              cg_error_message());
    }
    path_of(p, sizeof p, "absent");
    expect_error(cg_idx_read(p, &nd, dims, &data), CG_ERR_IO, "absent: cannot open", "missing");

    expect_error(cg_images_load_idx(lp, lp, &im), CG_ERR_PARSE, "1 dimensions; an image file",
                 "labels given as images");
    expect_error(cg_images_load_idx(ip, ip, &im), CG_ERR_PARSE, "3 dimensions; a label file",
                 "images given as labels");
    const int two[1] = {2};
    nl = make_idx(lab, 1, two, 1);
    write_bytes("lab2", lab, nl, false);
    path_of(p, sizeof p, "lab2");
    expect_error(cg_images_load_idx(ip, p, &im), CG_ERR_PARSE, "holds 2 labels but",
                 "count mismatch");
    nl = make_idx(lab, 1, ldims, 8); /* labels 8, 9, 10 */
    write_bytes("lab10", lab, nl, false);
    path_of(p, sizeof p, "lab10");
    expect_error(cg_images_load_idx(ip, p, &im), CG_ERR_PARSE, "label 10 of image 2",
                 "label out of range");

    /* A dataset folder of images that are not MNIST's 28x28, or of none, is refused when it is
     * loaded (the generators would read past 10x10 digits; 0x0 crashed them). */
    static const struct {
        const char *sub;
        int n, side;
        const char *message;
    } sizes[] = {{"zero", 0, 0, "holds no images"},
                 {"ten", 3, 10, "holds 10x10 images; MNIST and Fashion-MNIST images are 28x28"},
                 {"big", 3, 32, "holds 32x32 images"}};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        static uint8_t buf[3 * 32 * 32 + 64];
        char sub[512], name[64];
        path_of(sub, sizeof sub, sizes[k].sub);
        mkdir(sub, 0755);
        const int d3[3] = {sizes[k].n, sizes[k].side, sizes[k].side}, d1[1] = {sizes[k].n};
        static const char *const files[4][2] = {
            {"train-images-idx3-ubyte", "i"}, {"train-labels-idx1-ubyte", "l"},
            {"t10k-images-idx3-ubyte", "i"}, {"t10k-labels-idx1-ubyte", "l"}};
        for (int f = 0; f < 4; f++) {
            bool images = files[f][1][0] == 'i';
            size_t n = images ? make_idx(buf, 3, d3, 0) : make_idx(buf, 1, d1, 0);
            snprintf(name, sizeof name, "%s/%s", sizes[k].sub, files[f][0]);
            write_bytes(name, buf, n, false);
        }
        cg_images tr, te;
        expect_error(cg_dataset_load("mnist", sub, &tr, &te, NULL, NULL, 0), CG_ERR_PARSE,
                     sizes[k].message, sizes[k].sub);
    }
}

static void test_cifar(void) {
    static uint8_t rec[5 * 3073];
    for (int r = 0; r < 5; r++) {
        rec[r * 3073] = (uint8_t)(r * 2);
        for (int i = 0; i < 3072; i++)
            rec[r * 3073 + 1 + i] = (uint8_t)(r + i);
    }
    write_bytes("data_batch_1.bin", rec, 3 * 3073, false);
    write_bytes("data_batch_2.bin", rec + 3 * 3073, 2 * 3073, false);
    char a[512], b[512];
    path_of(a, sizeof a, "data_batch_1.bin");
    path_of(b, sizeof b, "data_batch_2.bin");
    const char *paths[2] = {a, b};
    cg_images im;
    CHECK_OK(cg_images_load_cifar10(paths, 2, &im));
    CHECK(im.n == 5 && im.c == 3 && im.h == 32 && im.w == 32, "cifar shape");
    CHECK(im.labels[4] == 8 && im.pixels[4 * 3072 + 1024] == (uint8_t)(4 + 1024),
          "record 5, green plane");
    cg_images_free(&im);
    write_bytes("odd.bin", rec, 3073 + 100, false);
    char p[512];
    path_of(p, sizeof p, "odd.bin");
    const char *odd[1] = {p};
    expect_error(cg_images_load_cifar10(odd, 1, &im), CG_ERR_PARSE,
                 "3173 bytes is not a whole number of 3073-byte", "cifar size");
    rec[3073] = 12;
    write_bytes("lab.bin", rec, 2 * 3073, false);
    path_of(p, sizeof p, "lab.bin");
    expect_error(cg_images_load_cifar10(odd, 1, &im), CG_ERR_PARSE, "record 1 has label 12",
                 "cifar label");
    path_of(p, sizeof p, "nothing.bin");
    expect_error(cg_images_load_cifar10(odd, 1, &im), CG_ERR_IO, "nothing.bin", "cifar missing");
}

static void check_set(const cg_images *im, int n, const char *what) {
    CHECK(im->n == n && im->c == 1 && im->h == 28 && im->w == 28, "%s: %d images of %dx%d", what,
          im->n, im->h, im->w);
    int counts[10] = {0};
    for (int i = 0; i < im->n; i++)
        if (im->labels[i] >= 0 && im->labels[i] < 10)
            counts[im->labels[i]]++;
    for (int k = 0; k < 10; k++)
        CHECK(counts[k] > im->n / 30, "%s: class %d has %d images", what, k, counts[k]);
}

static void test_datasets(void) {
    cg_images tr, te;
    cg_data_origin origin;
    char where[512];
    unsetenv("CLGRAPH_DATA");
    CHECK_OK(cg_dataset_load("mnist", NULL, &tr, &te, &origin, where, sizeof where));
    CHECK(origin == CG_DATA_BUILTIN, "mnist comes built in (%s)", where);
    check_set(&tr, 8000, "built-in mnist train");
    check_set(&te, 2000, "built-in mnist test");
    cg_images_free(&tr);
    cg_images_free(&te);

    CHECK_OK(cg_dataset_load("fashion-mnist", NULL, &tr, &te, &origin, where, sizeof where));
    check_set(&tr, origin == CG_DATA_SYSTEM ? 60000 : 3000, "fashion train");
    check_set(&te, origin == CG_DATA_SYSTEM ? 10000 : 1000, "fashion test");
    cg_images_free(&tr);
    cg_images_free(&te);
    char ip[4096], lp[4096];
    snprintf(ip, sizeof ip, "%s/fashion-mnist-train-3k-images-idx3-ubyte.gz", cg_data_builtin_dir());
    snprintf(lp, sizeof lp, "%s/fashion-mnist-train-3k-labels-idx1-ubyte.gz", cg_data_builtin_dir());
    CHECK_OK(cg_images_load_idx(ip, lp, &tr));
    check_set(&tr, 3000, "built-in fashion subset");
    cg_images_free(&tr);

    /* CLGRAPH_DATA/<name>/ with the four standard files is used before the built-in data. */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/root/mnist", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", sub);
    CHECK(system(cmd) == 0, "mkdir");
    static uint8_t img[3 * 28 * 28 + 64];
    uint8_t lab[64];
    const int idims[3] = {3, 28, 28}, ldims[1] = {3};
    size_t ni = make_idx(img, 3, idims, 0), nl = make_idx(lab, 1, ldims, 1);
    write_bytes("root/mnist/train-images-idx3-ubyte.gz", img, ni, true);
    write_bytes("root/mnist/train-labels-idx1-ubyte", lab, nl, false);
    write_bytes("root/mnist/t10k-images-idx3-ubyte", img, ni, false);
    write_bytes("root/mnist/t10k-labels-idx1-ubyte.gz", lab, nl, true);
    snprintf(cmd, sizeof cmd, "%s/root", dir);
    setenv("CLGRAPH_DATA", cmd, 1);
    CHECK_OK(cg_dataset_load("mnist", NULL, &tr, &te, &origin, where, sizeof where));
    CHECK(origin == CG_DATA_PATH && tr.n == 3 && te.n == 3 && tr.h == 28,
          "CLGRAPH_DATA is used: origin %d, %d images", origin, tr.n);
    cg_images_free(&tr);
    cg_images_free(&te);
    unsetenv("CLGRAPH_DATA");
    CHECK_OK(cg_dataset_load("mnist", sub, &tr, &te, &origin, where, sizeof where));
    CHECK(tr.n == 3, "an explicit folder is used");
    cg_images_free(&tr);
    cg_images_free(&te);

    expect_error(cg_dataset_load("mnist", "/no/such/folder", &tr, &te, NULL, NULL, 0),
                 CG_ERR_NOT_FOUND, "data folder /no/such/folder for mnist does not exist",
                 "missing folder");
    expect_error(cg_dataset_load("mnist", dir, &tr, &te, NULL, NULL, 0), CG_ERR_NOT_FOUND,
                 "has no train-images-idx3-ubyte[.gz]", "folder without the files");
    expect_error(cg_dataset_load("cifar100", NULL, &tr, &te, NULL, NULL, 0),
                 CG_ERR_INVALID_ARGUMENT, "unknown dataset 'cifar100'", "unknown name");
}

int main(void) {
    if (!mkdtemp(dir))
        return 1;
    test_idx();
    test_cifar();
    test_datasets();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not remove %s\n", dir);
    return cgt_finish("test_data");
}
