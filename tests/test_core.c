/* Core helpers: SHA-256 against the FIPS 180-4 examples, status names, error messages, the
 * edit distance behind "did you mean" hints. Needs no device. */
#include "core/common.h"
#include "harness.h"

static void sha_hex(const char *msg, char out[65]) {
    cg__sha256 h;
    uint8_t d[32];
    cg__sha256_init(&h);
    /* Fed in uneven pieces, so block boundaries inside update are crossed. */
    size_t n = strlen(msg), at = 0, step = 1;
    while (at < n) {
        size_t take = n - at < step ? n - at : step;
        cg__sha256_update(&h, msg + at, take);
        at += take;
        step = step * 3 + 1;
    }
    cg__sha256_final(&h, d);
    cg__hex(out, d, 32);
}

int main(void) {
    char hex[65];
    sha_hex("abc", hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
          "sha256(abc) = %s", hex);
    sha_hex("", hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0,
          "sha256('') = %s", hex);
    sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0,
          "sha256(two blocks) = %s", hex);

    CHECK(strcmp(cg_status_str(CG_OK), "ok") == 0, "%s", cg_status_str(CG_OK));
    CHECK(strcmp(cg_status_str(CG_ERR_BUILD), "kernel program build failed") == 0, "%s",
          cg_status_str(CG_ERR_BUILD));
    CHECK(strcmp(cg__cl_error_name(-5), "CL_OUT_OF_RESOURCES") == 0, "%s",
          cg__cl_error_name(-5));
    CHECK(strcmp(cg__cl_error_name(-9999), "CL_ERROR_-9999") == 0, "%s",
          cg__cl_error_name(-9999));

    cg_status st = cg__error(CG_ERR_IO, "cannot open %s", "x.bin");
    CHECK(st == CG_ERR_IO, "cg__error returns its status");
    cg__error_prefix(st, "loading weights");
    CHECK(strcmp(cg_error_message(), "loading weights: cannot open x.bin") == 0, "%s",
          cg_error_message());
    cg_error_clear();
    CHECK(cg_error_message()[0] == '\0', "cleared");

    CHECK(cg__edit_distance("epoch", "epochs") == 1, "one insertion");
    CHECK(cg__edit_distance("kitten", "sitting") == 3, "classic example");
    const char *keys[] = {"epochs", "batch", "seed"};
    CHECK(cg__closest("epoch", keys, 3) == keys[0], "epoch -> epochs");
    CHECK(cg__closest("zzzzzz", keys, 3) == NULL, "nothing close");
    CHECK(cg__contains_nocase("NVIDIA CUDA", "cuda") && !cg__contains_nocase("AMD", "intel"),
          "case-insensitive substring");
    return cgt_finish("test_core");
}
