#!/usr/bin/env bash
# Usage: scripts/dev.sh [VENV_DIR [PYTHON]]   (make dev)
# The edit loop: builds rthreading in debug mode (no LTO, incremental) and installs it into one
# virtual environment, editable, with `maturin develop`: the extension lands in
# python/rthreading/ and the venv imports the package from the source tree, so an edited .py
# file needs no rebuild at all and an edited .rs file only cargo's incremental rebuild.
# PYTHON defaults to the free-threaded interpreter (scripts/ft-python.sh). The build has its
# own target directory (target/dev/<ABI>): `make lint` and the release wheels, built for other
# interpreters and profiles, never invalidate it. Prints the venv's python.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv-dev}"
python="${2:-$("$root/scripts/ft-python.sh")}"

vpy="$("$root/scripts/tools-venv.sh" "$venv" "$python")"
# One target directory per interpreter (its ABI tag): PyO3 is built for one interpreter, so
# alternating two venvs in one directory would rebuild it every time.
abi="$("$vpy" -c 'import sysconfig; print(sysconfig.get_config_var("SOABI"))')"
VIRTUAL_ENV="$venv" CARGO_TARGET_DIR="$root/target/dev/$abi" \
  "$venv/bin/maturin" develop --quiet -m "$root/Cargo.toml" >&2
echo "$vpy"
