#!/usr/bin/env bash
# Create .venv and install everything the pipeline and its tests need (CPU only, offline but PyPI).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
# the project itself, editable: `pipeline` and `stages` import from any folder
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
# DVC analytics off for this repo (the committed .dvc/config says so too)
export DVC_NO_ANALYTICS=1
echo "setup.sh: environment ready in .venv"
