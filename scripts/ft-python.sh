#!/usr/bin/env bash
# Prints the path of a free-threaded CPython interpreter (and nothing else on stdout).
#
# If none is cached under $RTHREADING_CACHE (default ~/.cache/rthreading), builds one from
# Debian's CPython source package: newest 3.14 first, then 3.13, trying every version the
# archive lists (it lists more than it serves) until one downloads. Idempotent; the build
# takes a few minutes on 2 cores. Progress goes to stderr.
set -euo pipefail

CACHE="${RTHREADING_CACHE:-$HOME/.cache/rthreading}"
SERIES="${RTHREADING_FT_SERIES:-3.14 3.13}"
log() { echo "ft-python: $*" >&2; }
die() { log "error: $*"; exit 1; }

usable() {  # $1: interpreter; true if it runs and its GIL is disabled
  [ -x "$1" ] && "$1" -c 'import sys, sysconfig; sys.exit(not sysconfig.get_config_var("Py_GIL_DISABLED") or sys._is_gil_enabled())' 2>/dev/null
}

for s in $SERIES; do
  exe="$CACHE/python$s-ft/bin/python${s}t"
  if usable "$exe"; then echo "$exe"; exit 0; fi
done

mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9   # two runs at once build once

# Another run may have finished the build while we waited for the lock.
for s in $SERIES; do
  exe="$CACHE/python$s-ft/bin/python${s}t"
  if usable "$exe"; then echo "$exe"; exit 0; fi
done

log "no free-threaded interpreter cached in $CACHE; building one from Debian's source (a few minutes)"

# --- the build dependencies a fresh machine lacks ------------------------------------------
need=()
for p in build-essential pkg-config libffi-dev libssl-dev zlib1g-dev libbz2-dev liblzma-dev \
         libsqlite3-dev libreadline-dev uuid-dev libncurses-dev libgdbm-dev libgdbm-compat-dev \
         libzstd-dev tk-dev xz-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing build packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2 \
    || die "could not install the build packages: ${need[*]}"
fi

# --- a private apt configuration for deb-src, reusing the system's Debian archive URI --------
uri=$( { grep -hs '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i=2;i<=NF;i++) print $i}';
         grep -hs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
           | sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } \
       | grep -E '/debian/?$' | grep -v security | head -n1 || true)
[ -n "$uri" ] || die "found no Debian archive URI in /etc/apt/sources.list*; cannot fetch CPython sources"
uri="${uri%/}"
log "using the Debian archive at $uri"

apt_dir="$CACHE/apt"
rm -rf "$apt_dir"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
for suite in unstable testing trixie; do
  echo "deb-src $uri $suite main"
done > "$apt_dir/sources.list"
APT=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
     -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
     -o "Acquire::Check-Valid-Until=false" -o "Debug::NoLocking=1")
apt-get "${APT[@]}" update -qq >&2 || die "apt-get update of the deb-src lists failed"

src_dir="$CACHE/src"
mkdir -p "$src_dir"
found=""
for s in $SERIES; do
  pkg="python$s"
  versions=$(apt-cache "${APT[@]}" showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -Vr | uniq)
  for v in $versions; do
    log "trying to download $pkg=$v"
    dl="$src_dir/$pkg-$v"
    rm -rf "$dl"; mkdir -p "$dl"
    if (cd "$dl" && apt-get "${APT[@]}" source --download-only "$pkg=$v" >/dev/null 2>&1); then
      found="$s $v $dl"; break 2
    fi
    log "  $pkg=$v is listed but not served"
    rm -rf "$dl"
  done
done
[ -n "$found" ] || die "the Debian archive served no python3.14 or python3.13 source (tried: $SERIES); cannot build a free-threaded interpreter"
read -r series version dl <<<"$found"

orig=$(ls "$dl"/*.orig.tar.* 2>/dev/null | head -n1)
[ -n "$orig" ] || die "no upstream tarball in the $version source package"
log "building CPython $version with --disable-gil (configure, make -j$(nproc), make install)"
build="$dl/build"
mkdir -p "$build"
tar -xf "$orig" -C "$build" --strip-components=1
prefix="$CACHE/python$series-ft"
rm -rf "$prefix"
(
  cd "$build"
  ./configure --disable-gil --enable-shared --with-ensurepip=install --prefix="$prefix" \
    LDFLAGS="-Wl,-rpath,$prefix/lib" >"$dl/configure.log" 2>&1 || { tail -30 "$dl/configure.log" >&2; exit 1; }
  make -j"$(nproc)" >"$dl/make.log" 2>&1 || { tail -30 "$dl/make.log" >&2; exit 1; }
  make install >"$dl/install.log" 2>&1 || { tail -30 "$dl/install.log" >&2; exit 1; }
) || die "building CPython $version failed (logs in $dl)"
rm -rf "$build"

exe="$prefix/bin/python${series}t"
usable "$exe" || die "built $exe but it is not a working free-threaded interpreter"
log "built $exe"
echo "$exe"
