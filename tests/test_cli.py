#!/usr/bin/env python3
"""The clgraph command as a user meets it: help and version, usage errors with hints, the
device list (text and JSON), device choice errors, the selftest, and the missing-driver message.

Usage: test_cli.py PATH/TO/clgraph
Exits 77 (skipped) when no OpenCL device exists, unless CLGRAPH_REQUIRE_DEVICE=1.
"""
import ast
import json
import os
import struct
import subprocess
import sys
import tempfile

failures = 0
checks = 0


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([CLGRAPH, *args], capture_output=True, text=True, env=e, timeout=600)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAILED:", what, file=sys.stderr)


def main():
    rc, out, err = run("--version")
    check(rc == 0 and out.startswith("clgraph "), "--version: %r" % out)
    rc, out, err = run("--help")
    check(rc == 0 and "devices" in out and "selftest" in out, "--help lists commands: %r" % out)
    rc, out, err = run()
    check(rc == 2 and "Usage" in err, "no command: usage on stderr, exit 2")
    for cmd in ("devices", "selftest"):
        rc, out, err = run(cmd, "--help")
        check(rc == 0 and ("Usage: clgraph " + cmd) in out and "--device" in out,
              "%s --help: %r" % (cmd, out))
    rc, out, err = run("devcies")
    check(rc == 2 and "did you mean 'devices'" in err, "mistyped command hint: %r" % err)
    rc, out, err = run("devices", "--jsn")
    check(rc == 2 and "did you mean '--json'" in err, "mistyped option hint: %r" % err)
    rc, out, err = run("selftest", "--device")
    check(rc == 2 and "needs a value" in err, "missing value: %r" % err)

    data_commands()

    # No OpenCL platform at all: a clear message, exit 1, no crash.
    with tempfile.TemporaryDirectory() as empty:
        for cmd in ("devices", "selftest"):
            rc, out, err = run(cmd, env={"OCL_ICD_VENDORS": empty, "OPENCL_VENDOR_PATH": empty})
            check(rc == 1 and "no OpenCL platform found" in err and "pocl-opencl-icd" in err,
                  "%s without a platform: rc %d, %r" % (cmd, rc, err))

    rc, out, err = run("devices", "--json")
    if rc != 0 and "no OpenCL platform" in err and os.environ.get("CLGRAPH_REQUIRE_DEVICE") != "1":
        print("skipped: no OpenCL device")
        return 77 if failures == 0 else 1
    check(rc == 0, "devices --json: rc %d %s" % (rc, err))
    devices = json.loads(out)
    check(len(devices) >= 1, "at least one device")
    check(sum(d["chosen"] for d in devices) == 1, "exactly one device marked")
    for key in ("name", "vendor", "type", "compute_units", "clock_mhz", "global_mem_bytes",
                "local_mem_bytes", "max_alloc_bytes", "opencl_c_version", "fp16", "fp64",
                "subgroups", "driver_version", "platform_name"):
        check(key in devices[0], "JSON has %s" % key)

    rc, out, err = run("devices")
    check(rc == 0 and "Platform 0:" in out and "(default)" in out and "compute units" in out,
          "devices text: %r" % out)
    first = devices[0]["index"]
    rc, out, err = run("devices", "--device", first)
    check(rc == 0 and "(chosen)" in out, "devices --device %s: %r" % (first, out))
    rc, out, err = run("devices", env={"CLGRAPH_DEVICE": "no-such-device-xyz"})
    check(rc == 1 and "no OpenCL device matches 'no-such-device-xyz'" in err
          and "Devices present:" in err and devices[0]["name"] in err,
          "CLGRAPH_DEVICE no match: %r" % err)
    rc, out, err = run("selftest", "--device", "no-such-device-xyz")
    check(rc == 1 and "no OpenCL device matches" in err, "selftest bad device: %r" % err)

    with tempfile.TemporaryDirectory() as cache:
        env = {"XDG_CACHE_HOME": cache}
        rc, out, err = run("selftest", "--device", first, env=env)
        check(rc == 0 and "selftest:" in out and " 0 failed" in out and "cache miss" in out,
              "selftest cold: rc %d %s %s" % (rc, out, err))
        check(os.path.isdir(os.path.join(cache, "clgraph")), "cache folder created")
        rc, out, err = run("selftest", env=env)
        check(rc == 0 and "cache hit" in out, "selftest warm: %s" % out)
        rc, out, err = run("selftest", "--no-cache", env=env)
        check(rc == 0 and "cache off" in out, "selftest --no-cache: %s" % out)
    return 1 if failures else 0


def npy_header(path):
    """(descr, shape, data bytes) of a .npy file, read by hand so the test needs no numpy."""
    with open(path, "rb") as f:
        raw = f.read()
    check(raw[:8] == b"\x93NUMPY\x01\x00", "%s: npy magic" % path)
    (hlen,) = struct.unpack("<H", raw[8:10])
    check((10 + hlen) % 64 == 0, "%s: header padded to 64 bytes" % path)
    header = ast.literal_eval(raw[10:10 + hlen].decode("latin1"))
    return header["descr"], tuple(header["shape"]), len(raw) - 10 - hlen


def data_commands():
    rc, out, err = run("data")
    check(rc == 2 and "clgraph data preview" in err, "data without a subcommand: %r" % err)
    rc, out, err = run("data", "--help")
    check(rc == 0 and "export" in out, "data --help")
    for sub in ("preview", "export"):
        rc, out, err = run("data", sub, "--help")
        check(rc == 0 and ("Usage: clgraph data " + sub) in out, "data %s --help" % sub)
    with tempfile.TemporaryDirectory() as tmp:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("pipeline: baseline\ndata:\n  train: lots\n")
        rc, out, err = run("data", "preview", bad)
        check(rc == 2 and (bad + ":3:10: 'train' must be a whole number, not 'lots'") in err,
              "bad experiment: rc %d %r" % (rc, err))
        rc, out, err = run("data", "export", os.path.join(tmp, "none.yaml"), "--out", tmp)
        check(rc == 2 and "none.yaml" in err, "missing experiment: %r" % err)
        exp = os.path.join(tmp, "exp.yaml")
        with open(exp, "w") as f:
            f.write("name: tiny\npipeline: baseline\nseed: 1\ndata:\n  train: 40\n  test: 10\n")
        png = os.path.join(tmp, "p.png")
        rc, out, err = run("data", "preview", exp, "--out", png, "--samples", "4")
        check(rc == 0 and out.strip() == png, "preview: rc %d %r %r" % (rc, out, err))
        check("train" in err and "test_ood" in err and "built-in mnist" in err,
              "preview reports the splits and the source: %r" % err)
        with open(png, "rb") as f:
            head = f.read(24)
        w, h = struct.unpack(">II", head[16:24])
        check(head[:8] == b"\x89PNG\r\n\x1a\n" and w > 200 and h > 200,
              "a PNG of %dx%d" % (w, h))
        outdir = os.path.join(tmp, "npy")
        rc, out, err = run("data", "export", exp, "--out", outdir)
        check(rc == 0 and "9 files written" in err, "export: rc %d %r" % (rc, err))
        descr, shape, size = npy_header(os.path.join(outdir, "train_x.npy"))
        check(descr == "<f4" and shape == (40, 3, 32, 32) and size == 40 * 3 * 32 * 32 * 4,
              "train_x.npy: %s %s %d" % (descr, shape, size))
        descr, shape, size = npy_header(os.path.join(outdir, "test_ood_y.npy"))
        check(descr == "<i8" and shape == (10,) and size == 80, "labels as int64")
        with open(os.path.join(outdir, "test_ood_y.npy"), "rb") as f:
            raw = f.read()
        labels = struct.unpack("<10q", raw[-80:])
        check(all(0 <= v <= 9 for v in labels), "labels are digits: %s" % (labels,))
        sia = os.path.join(tmp, "sia.yaml")
        with open(sia, "w") as f:
            f.write("pipeline: siamese\ndata:\n  train: 20\n  test: 5\n")
        rc, out, err = run("data", "export", sia, "--out", outdir)
        descr, shape, size = npy_header(os.path.join(outdir, "pairs_target.npy"))
        check(rc == 0 and descr == "<i8" and shape == (20,), "pair targets as int64")


if __name__ == "__main__":
    CLGRAPH = sys.argv[1]
    status = main()
    print("test_cli: %d checks, %d failed" % (checks, failures))
    sys.exit(status)
