#!/bin/sh
# Build a separate Debian 12 root with some packages installed, for daemons that cannot share the host with
# another (mail transfer agents conflict as packages: sendmail, postfix and exim4 are one per system).
#   .ci/make-root.sh NAME PACKAGE...      → /var/cache/bindcheck-roots/NAME (idempotent)
# A minimal base root is debootstrapped once (/var/cache/bindcheck-roots/.base) and copied for each NAME.
# Nothing inside a root is started: policy-rc.d refuses every service start.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "make-root.sh: must run as root" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: make-root.sh NAME PACKAGE..." >&2; exit 2; }
name=$1; shift
top=/var/cache/bindcheck-roots
base=$top/.base
root=$top/$name
stamp="$root/.bindcheck-packages"
want="$*"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "make-root.sh: $root already has: $want"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null 2>&1; then
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -q
  apt-get install -y -q --no-install-recommends debootstrap
fi

mkdir -p "$top"
if [ ! -f "$base/.bindcheck-base" ]; then
  rm -rf "$base.tmp"
  # The mirror is the one apt on this machine already uses.
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=$(awk '/^deb .*debian/ && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || { echo "make-root.sh: cannot find the Debian mirror apt uses" >&2; exit 1; }
  debootstrap --variant=minbase bookworm "$base.tmp" "$mirror"
  printf '#!/bin/sh\nexit 101\n' > "$base.tmp/usr/sbin/policy-rc.d"
  chmod 755 "$base.tmp/usr/sbin/policy-rc.d"
  touch "$base.tmp/.bindcheck-base"
  mv "$base.tmp" "$base"
fi

rm -rf "$root.tmp"
cp -a "$base" "$root.tmp"
cp /etc/resolv.conf "$root.tmp/etc/resolv.conf" 2>/dev/null || true
mount --bind /proc "$root.tmp/proc"
trap 'umount "$root.tmp/proc" 2>/dev/null || true' EXIT
chroot "$root.tmp" apt-get update -q
chroot "$root.tmp" apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
umount "$root.tmp/proc"
trap - EXIT
echo "$want" > "$root.tmp/.bindcheck-packages"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "make-root.sh: $root ready with: $want"
