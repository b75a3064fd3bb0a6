#!/usr/bin/env bash
# Usage: scripts/dist.sh [OUT_DIR]   (`make dist`; OUT_DIR defaults to dist/)
# The release artifacts, as a user or an index gets them: a manylinux2014 (manylinux_2_17)
# wheel for the free-threaded interpreter and for $GIL_PYTHON (python3), built with maturin
# and zig as the linker, each checked by `auditwheel show` and `auditwheel repair` (nothing to
# graft: the wheel must come out of repair unchanged in name), and the sdist (`maturin sdist`),
# checked to hold what a build needs and nothing generated. scripts/check-dist.sh installs
# each into fresh venvs and runs the test suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/dist}" && cd "${1:-$root/dist}" && pwd)"
gil_python="${GIL_PYTHON:-python3}"
venv="$root/.venv-dist"
log() { echo "dist: $*" >&2; }

stamp="$venv/.deps-$(sha1sum "$root/requirements-dist.txt" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  log "installing maturin, ziglang, auditwheel into $venv"
  "$gil_python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q --prefer-binary -r "$root/requirements-dist.txt"
  touch "$stamp"
fi
# maturin runs zig as `python3 -m ziglang` from PATH: the venv's (so name the GIL interpreter
# by its path first).
gil_python="$("$gil_python" -c 'import sys; print(sys.executable)')"
export PATH="$venv/bin:$PATH"

rm -f "$out"/rthreading-*
plat=manylinux_2_17_x86_64
for py in "$("$root/scripts/ft-python.sh")" "$gil_python"; do
  log "building the $plat wheel for $py"
  maturin build --release --quiet --zig --compatibility manylinux2014 -i "$py" -o "$out" \
    -m "$root/Cargo.toml" >&2
done
log "building the sdist"
maturin sdist -o "$out" -m "$root/Cargo.toml" >&2

fail() { echo "dist: FAILED: $*" >&2; exit 1; }
repaired="$(mktemp -d)"
trap 'rm -rf "$repaired"' EXIT
for whl in "$out"/rthreading-*.whl; do
  name="$(basename "$whl")"
  case "$name" in *"$plat"*) ;; *) fail "$name is not tagged $plat" ;; esac
  show="$(auditwheel show "$whl" 2>&1)"
  grep -q "consistent with the following platform tag" <<<"$show" || fail "auditwheel show $name: $show"
  grep -q "\"$plat\"" <<<"$show" || fail "auditwheel show $name: not $plat: $show"
  auditwheel repair --plat "$plat" -w "$repaired" "$whl" >/dev/null 2>&1 || fail "auditwheel repair $name"
  [ -f "$repaired/$name" ] || fail "auditwheel repair changed $name: $(ls "$repaired")"
  log "$name: auditwheel show: $plat; repair: nothing to graft"
done

sdist="$(ls "$out"/rthreading-*.tar.gz)"
files="$(tar -tzf "$sdist" | sed 's|^[^/]*/||')"
for need in Cargo.toml Cargo.lock build.rs .cargo/config.toml pyproject.toml README.md LICENSE \
  src/lib.rs python/rthreading/__init__.py python/rthreading/py.typed \
  python/rthreading/_core.pyi python/rthreading.data/purelib/rthreading_patch.pth tests/conftest.py; do
  grep -qxF "$need" <<<"$files" || fail "$(basename "$sdist") lacks $need"
done
generated="$(grep -E '(^|/)(target|dist|build|site|__pycache__|\.venv[^/]*|\.pytest_cache|\.hypothesis)/|\.(so|pyc|whl)$' <<<"$files" || true)"
[ -z "$generated" ] || fail "$(basename "$sdist") holds generated files: $generated"
log "$(basename "$sdist"): $(wc -l <<<"$files") files, the build's own present, nothing generated"
ls -l "$out"/rthreading-* >&2
