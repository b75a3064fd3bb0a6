#!/usr/bin/env bash
# Usage: scripts/venv.sh VENV_DIR PYTHON
# (RTHREADING_MANIFEST=pyo3-next/Cargo.toml, relative to the repository: the same sources against
# the newest PyO3.)
# Makes (or reuses) a virtual environment for PYTHON, installs the test and build tools into
# it, builds rthreading's wheel with maturin for that interpreter and pip-installs the wheel:
# the path a user takes, so tests run against the installed package, not the source tree.
set -euo pipefail
venv="$1"; python="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$root/${RTHREADING_MANIFEST:-Cargo.toml}"
log() { echo "venv: $*" >&2; }

vpy="$("$root/scripts/tools-venv.sh" "$venv" "$python")"
log "building the wheel for $vpy"
rm -rf "$venv/dist"
"$venv/bin/maturin" build --release --quiet -i "$vpy" -o "$venv/dist" -m "$manifest" >&2
"$vpy" -m pip install -q --force-reinstall --no-deps "$venv"/dist/rthreading-*.whl >&2
echo "$vpy"
