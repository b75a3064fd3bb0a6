#!/usr/bin/env bash
# Usage: scripts/tools-venv.sh VENV_DIR PYTHON
# Makes (or reuses) a virtual environment for PYTHON with the build and test tools of
# requirements-dev.txt installed (again when that file changes); prints the venv's python.
# Shared by scripts/venv.sh (release wheel) and scripts/dev.sh (the edit loop).
set -euo pipefail
venv="$1"; python="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
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
echo "$vpy"
