#!/usr/bin/env bash
# Set up idverify from a fresh checkout: system packages (Debian), the
# virtual environment at .venv, the Python dependencies without compiling
# dlib, and the model check. Idempotent: a second run only verifies.
# `scripts/setup.sh --bench` also installs the benchmarks' baselines.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng fonts-ocr-b ffmpeg)

missing=()
if command -v dpkg >/dev/null 2>&1; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version)"
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian's python3 needs its venv package for ensurepip
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv && "$PYTHON" -m venv .venv
  fi
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
# dlib-bin is a prebuilt wheel of dlib; face_recognition is installed without its
# metadata's `dlib` requirement so pip never starts a 16-minute source build.
EXTRAS="dev"
[ "${1:-}" = "--bench" ] && EXTRAS="dev,bench"  # benchmark baselines (PassportEye)
# constraints.txt holds the versions the figures were measured with (a new OpenCV, numpy or BLAS kernel can move
# them); the bench extras' own dependencies are not in it
"${PIP[@]}" install -c constraints.txt -e ".[$EXTRAS]"
"${PIP[@]}" install -c constraints.txt --no-deps 'face_recognition==1.3.0'
.venv/bin/python -m idverify.models build
.venv/bin/python -m idverify.models
echo "setup: ready (.venv)"
