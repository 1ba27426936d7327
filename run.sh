#!/usr/bin/env bash
# Set-up and entry point for a fresh checkout.
#
#   ./run.sh          install what is missing, build, then run the main job: list the devices,
#                     self-test the kernels and run the default experiment
#                     (experiments/baseline.yaml, under two minutes on a 2-core CPU)
#   ./run.sh test     the same set-up, then the whole test suite
#
# Installs missing system packages with apt-get (through sudo when not root) on Debian and
# Ubuntu; elsewhere it names the packages to install. Builds with meson into ./build.
# Environment: CLGRAPH_DEVICE chooses the device; CI=true builds with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-main}
case "$mode" in
main | test) ;;
-h | --help)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "run.sh: unknown mode '$mode' (use no argument for the main job, or 'test')" >&2
    exit 2
    ;;
esac

# What is needed, as "check:debian-package" pairs. A check is a command name, pkg-config:NAME or
# file:PATH (optional: installed where apt-get can, else named and left out).
needs=(
    "cc:gcc" "meson:meson" "ninja:ninja-build" "pkg-config:pkg-config" "python3:python3"
    "pkg-config:OpenCL:ocl-icd-opencl-dev" "pkg-config:clblast:libclblast-dev"
    "pkg-config:yaml-0.1:libyaml-dev" "pkg-config:zlib:zlib1g-dev" "pkg-config:libpng:libpng-dev"
    "pkg-config:libcjson:libcjson-dev"
    "clinfo:clinfo"
    # The full Fashion-MNIST for the VAE study (60,000/10,000 images; the built-in subset has
    # 3,000/1,000).
    "file:/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz:dataset-fashion-mnist"
)
missing=()
optional=()
for n in "${needs[@]}"; do
    IFS=: read -r kind name pkg <<<"$n"
    if [ "$kind" = pkg-config ] && [ -n "$pkg" ]; then
        command -v pkg-config >/dev/null && pkg-config --exists "$name" || missing+=("$pkg")
    elif [ "$kind" = file ]; then
        [ -e "$name" ] || optional+=("$pkg")
    else
        command -v "$kind" >/dev/null || missing+=("$name")
    fi
done
# An OpenCL driver: without any registered ICD, install PoCL so the CPU is a device.
if ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 && [ -z "${OCL_ICD_VENDORS:-}" ]; then
    missing+=("pocl-opencl-icd")
fi

if [ ${#optional[@]} -gt 0 ] && ! command -v apt-get >/dev/null; then
    echo "run.sh: left out (optional, Debian names): ${optional[*]}" >&2
    optional=()
fi
missing+=(${optional[@]+"${optional[@]}"})
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null; then
        sudo=""
        if [ "$(id -u)" != 0 ]; then
            if command -v sudo >/dev/null; then
                sudo="sudo"
            else
                echo "run.sh: need to install ${missing[*]} but am not root and have no sudo" >&2
                exit 1
            fi
        fi
        echo "run.sh: installing ${missing[*]}"
        $sudo apt-get update -qq
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        cat >&2 <<MSG
run.sh: missing: ${missing[*]} (Debian names). On other systems install:
  Fedora:  sudo dnf install gcc meson ninja-build pkgconf ocl-icd-devel opencl-headers clblast-devel libyaml-devel zlib-devel libpng-devel cjson-devel pocl clinfo
  Arch:    sudo pacman -S gcc meson ninja pkgconf ocl-icd opencl-headers clblast libyaml zlib libpng cjson pocl clinfo
  macOS:   brew install meson ninja pkg-config clblast libyaml libpng cjson (OpenCL comes with the system)
For a GPU, install your vendor's OpenCL driver as well (NVIDIA driver, AMD ROCm, Intel compute-runtime).
MSG
        exit 1
    fi
fi

options=()
if [ "${CI:-}" = true ]; then options+=(-Dwerror=true); fi
if [ -f build/build.ninja ]; then
    meson configure build "${options[@]}" >/dev/null
else
    meson setup build "${options[@]}" >/dev/null
fi
ninja -C build >/dev/null

if [ "$mode" = main ]; then
    ./build/clgraph devices
    echo
    ./build/clgraph selftest
    echo
    ./build/clgraph run experiments/baseline.yaml
    exit 0
fi

status=0
meson test -C build --print-errorlogs || status=$?
# One plain summary line from meson's JSON log.
python3 - <<'PY'
import json
counts = {"OK": 0, "FAIL": 0, "SKIP": 0}
with open("build/meson-logs/testlog.json") as f:
    for line in f:
        r = json.loads(line).get("result", "")
        key = "OK" if r in ("OK", "EXPECTEDFAIL") else "SKIP" if r == "SKIP" else "FAIL"
        counts[key] += 1
print("tests: %d passed, %d failed, %d skipped" % (counts["OK"], counts["FAIL"], counts["SKIP"]))
PY
exit $status
