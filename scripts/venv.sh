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

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv for $("$python" -c 'import sys; print(sys.version.split()[0], "free-threaded" if not getattr(sys, "_is_gil_enabled", lambda: True)() else "GIL")')"
  "$python" -m venv "$venv"
fi
vpy="$venv/bin/python"
stamp="$venv/.deps-$(sha1sum "$root/requirements-dev.txt" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "installing the build and test tools into $venv"
  "$vpy" -m pip install -q --upgrade pip >&2
  # hypothesis's newest releases have no wheel for every interpreter: prefer a pure wheel.
  "$vpy" -m pip install -q --prefer-binary -r "$root/requirements-dev.txt" >&2
  touch "$stamp"
fi
log "building the wheel for $vpy"
rm -rf "$venv/dist"
"$venv/bin/maturin" build --release --quiet -i "$vpy" -o "$venv/dist" -m "$manifest" >&2
"$vpy" -m pip install -q --force-reinstall --no-deps "$venv"/dist/rthreading-*.whl >&2
echo "$vpy"
