#!/usr/bin/env bash
# Usage: scripts/bench-deps.sh VENV_PYTHON
# Installs the benchmark suite's extras (requirements-bench.txt: pyperf, matplotlib, the async
# group's peers janus, culsans, aiologic) into a venv made by scripts/venv.sh, binary wheels
# only, and, on 3.13+, the peer the queue scenarios compare with, Meta's ft_utils (an sdist:
# built with the machine's C compiler).
# A peer that does not build is left out of the run with its reason, not a failure.
set -euo pipefail
vpy="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
log() { echo "bench-deps: $*" >&2; }
venv="$(dirname "$(dirname "$vpy")")"
stamp="$venv/.bench-deps-$(sha1sum "$root/requirements-bench.txt" "$0" | sha1sum | cut -c1-12)"
[ -f "$stamp" ] && exit 0
log "installing the bench extra into $venv"
"$vpy" -m pip install -q --only-binary=:all: -r "$root/requirements-bench.txt" >&2
if "$vpy" -c 'import sys; sys.exit(sys.version_info < (3, 13))'; then
  if ! "$vpy" -m pip install -q "ft-utils>=0.2" >&2; then
    log "ft_utils did not build for $("$vpy" -V): the queue scenarios run without the peer"
  fi
fi
touch "$stamp"
