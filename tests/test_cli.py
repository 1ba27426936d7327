#!/usr/bin/env python3
"""The clgraph command as a user meets it: help and version, usage errors with hints, the
device list (text and JSON), device choice errors, the selftest, and the missing-driver message.

Usage: test_cli.py PATH/TO/clgraph
Exits 77 (skipped) when no OpenCL device exists, unless CLGRAPH_REQUIRE_DEVICE=1.
"""
import json
import os
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


if __name__ == "__main__":
    CLGRAPH = sys.argv[1]
    status = main()
    print("test_cli: %d checks, %d failed" % (checks, failures))
    sys.exit(status)
