#!/usr/bin/env bash
# Usage: scripts/check-dist.sh [DIST_DIR]   (`make check-dist`, after `make dist`)
# Installs each release artifact the way a user would, into a fresh venv per interpreter (the
# free-threaded one and $GIL_PYTHON): the manylinux wheel by `pip install --no-index
# --find-links DIST rthreading` (pip picks the wheel for the interpreter), the sdist by
# `pip install rthreading-*.tar.gz` (built from source by pip: needs cargo), then runs the
# test suite against it. $PYTEST_ARGS are passed on (e.g. -x, -k). Slow: not part of make test.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$(cd "${1:-$root/dist}" && pwd)"
gil_python="${GIL_PYTHON:-python3}"
log() { echo "check-dist: $*" >&2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
results=()
status=0
for py in "$("$root/scripts/ft-python.sh")" "$gil_python"; do
  for kind in wheel sdist; do
    venv="$work/$kind-$(basename "$py")"
    log "$kind on $py: a fresh venv in $venv"
    "$py" -m venv "$venv"
    vpy="$venv/bin/python"
    "$vpy" -m pip install -q --upgrade pip
    if [ "$kind" = wheel ]; then
      "$vpy" -m pip install -q --only-binary=:all: --no-index --find-links "$dist" rthreading
    else
      "$vpy" -m pip install -q "$dist"/rthreading-*.tar.gz
    fi
    "$vpy" -m pip install -q --prefer-binary -r "$root/requirements-dev.txt"
    installed="$("$vpy" -c 'import rthreading, sys; print(rthreading.__file__, rthreading.__version__, "GIL" if getattr(sys, "_is_gil_enabled", lambda: True)() else "free-threaded")')"
    case "$installed" in "$venv"/*) ;; *) log "rthreading imported from outside the venv: $installed"; exit 1 ;; esac
    log "installed: $installed"
    set +e
    (cd "$root" && "$vpy" -m pytest -q ${PYTEST_ARGS:-} tests) >"$work/pytest.log" 2>&1
    rc=$?
    set -e
    tail -n 30 "$work/pytest.log" >&2
    summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$work/pytest.log" | tail -n 1)"
    results+=("$kind $($vpy -c 'import sys; print(sys.version.split()[0] + ("t" if not getattr(sys, "_is_gil_enabled", lambda: True)() else ""))'): exit $rc, $summary")
    [ "$rc" = 0 ] || status=1
  done
done
printf 'check-dist: %s\n' "${results[@]}" >&2
exit "$status"
