# Shared by scripts/setup, scripts/run and scripts/test. Sourced, not run.
#
# The project needs Python >= 3.14.2 (current Home Assistant). Where the host has one, the
# environment is a plain venv in .venv. Where it does not (Debian 12 hosts), it is a Debian sid
# userland in a chroot cached outside the checkout, with the checkout bind-mounted at the same path.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The heavy parts (the chroot with Home Assistant, go2rtc, Go's caches) are shared by every checkout
# on the machine; the project's own code is never installed into them (see checkout_venv).
if [ -z "${RTCC_CACHE:-}" ]; then
  RTCC_CACHE=/var/cache/rtcc_share
  [ "$(id -u)" = 0 ] || [ -w /var/cache ] || RTCC_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/rtcc_share"
fi
CHROOT="$RTCC_CACHE/sid"
CHROOT_VENV=/opt/venv
HOST_VENV="$ROOT/.venv"
# Chroot mode: a small venv inside the checkout, layered over the shared one, that holds this
# checkout's code and console scripts, so two checkouts never re-point each other's environment.
CHECKOUT_VENV="$ROOT/.venv-chroot"
GO2RTC_MODULE="$ROOT/addon/go2rtc"

say() { printf 'rtcc_share: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# A host Python that is new enough, or nothing.
host_python() {
  local py
  for py in python3.14 python3.15 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  return 1
}

# go2rtc's version, from the one place that names it (addon/go2rtc/go.mod), without the "v".
go2rtc_version() {
  awk '$1 == "github.com/AlexxIT/go2rtc" { sub(/^v/, "", $2); print $2; exit }' "$GO2RTC_MODULE/go.mod"
}
go2rtc_cached() { echo "$RTCC_CACHE/go2rtc/$(go2rtc_version)/go2rtc"; }

# Points GO2RTC_BIN at the go2rtc set-up built, unless the caller named one.
use_cached_go2rtc() {
  if [ -z "${GO2RTC_BIN:-}" ] && [ -x "$(go2rtc_cached)" ]; then
    GO2RTC_BIN=$(go2rtc_cached); export GO2RTC_BIN
  fi
}

env_mode() {
  if [ -n "${RTCC_ENV:-}" ]; then echo "$RTCC_ENV"; return; fi
  if host_python >/dev/null; then echo venv; else echo chroot; fi
}

# Environment variables that may cross into the chroot (everything else is left behind, so host
# settings such as PIP_FIND_LINKS cannot leak in).
pass_env() {
  local out=(PATH="$CHECKOUT_VENV/bin:$CHROOT_VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
             HOME=/root LANG=C.UTF-8 VIRTUAL_ENV="$CHECKOUT_VENV" RTCC_ENV=chroot RTCC_ROOT="$ROOT")
  local v
  for v in TERM CI GO2RTC_BIN PYTEST_ADDOPTS RTCC_BENCH_N RTCC_CHECKOUT_BARRIER COLUMNS TZ; do
    [ -n "${!v:-}" ] && out+=("$v=${!v}")
  done
  printf '%s\0' "${out[@]}"
}

# Prints the shell commands (run inside a private mount namespace) that make the chroot usable:
# kernel file systems, and the checkout and any GO2RTC_BIN at the same paths as on the host.
chroot_mounts() {
  cat <<EOF
set -e
mount -t proc proc "$CHROOT/proc"
mount -t sysfs sys "$CHROOT/sys" 2>/dev/null || true
mount --rbind /dev "$CHROOT/dev"; mount --make-rslave "$CHROOT/dev"
mount -t tmpfs -o mode=1777 shm "$CHROOT/dev/shm"
mount -t tmpfs -o mode=1777 tmp "$CHROOT/tmp"
mkdir -p "$CHROOT$ROOT"; mount --bind "$ROOT" "$CHROOT$ROOT"
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
EOF
  # Design material beside the checkout (read-only), for tests that check against its schemas.
  local shared; shared="$(cd "$ROOT/.." && pwd)/shared"
  if [ -d "$shared" ]; then
    printf 'mkdir -p "%s"; mount --bind "%s" "%s"; mount -o remount,bind,ro "%s" 2>/dev/null || true\n' \
      "$CHROOT$shared" "$shared" "$CHROOT$shared" "$CHROOT$shared"
  fi
  if [ -n "${GO2RTC_BIN:-}" ] && [ -f "$GO2RTC_BIN" ]; then
    printf 'mkdir -p "%s"; touch "%s"; mount --bind "%s" "%s"\n' \
      "$CHROOT$(dirname "$GO2RTC_BIN")" "$CHROOT$GO2RTC_BIN" "$GO2RTC_BIN" "$CHROOT$GO2RTC_BIN"
  fi
}
