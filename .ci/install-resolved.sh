#!/bin/sh
# The real systemd-resolved for bindcheck's resolved integration suite (Debian 12, as root).
#
# Not installed with apt: the package's postinst turns /etc/resolv.conf into a symlink to
# /run/systemd/resolve/stub-resolv.conf, which breaks DNS on a machine where resolved does not run (CI, this
# host), it Conflicts with resolvconf, and installing it would upgrade the host's systemd to the same version.
# Instead the .debs of systemd-resolved and of the matching libsystemd-shared are unpacked (dpkg-deb -x, no
# maintainer scripts run) into a private directory; the suite runs that binary with LD_LIBRARY_PATH pointing at
# the private libsystemd-shared, inside a private namespace. Nothing on the host changes except that directory
# and the shared libraries libsystemd-shared needs (ordinary Debian library packages).
#   → /var/cache/bindcheck-roots/resolved/{lib/systemd/systemd-resolved, usr/lib/x86_64-linux-gnu/systemd/…}
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "install-resolved.sh: must run as root" >&2; exit 1; }
"$here/lib/apt-install.sh" install-resolved.sh strace iproute2 python3 util-linux procps

top=/var/cache/bindcheck-roots
root=$top/resolved
stamp=$root/.bindcheck-packages
# The version the mirror offers now; systemd-resolved and libsystemd-shared always come from the same source build.
ver=$(apt-cache policy systemd-resolved 2>/dev/null | sed -n 's/^ *Candidate: *//p')
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
  apt-get update -q
  ver=$(apt-cache policy systemd-resolved | sed -n 's/^ *Candidate: *//p')
fi
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "install-resolved.sh: apt knows no systemd-resolved" >&2; exit 1; }
want="systemd-resolved=$ver libsystemd-shared=$ver"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$root/lib/systemd/systemd-resolved" ]; then
  echo "install-resolved.sh: $root already has: $want"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download writes as the _apt user when it can.
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -q "systemd-resolved=$ver" "libsystemd-shared=$ver")
  rm -rf "$root.tmp"
  mkdir -p "$root.tmp"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$root.tmp"; done
  # The libraries libsystemd-shared links against (no services in any of them).
  deps=$(dpkg-deb -f "$tmp"/libsystemd-shared_*.deb Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep -v '^$')
  # shellcheck disable=SC2086
  "$here/lib/apt-install.sh" install-resolved.sh $deps
  echo "$want" > "$root.tmp/.bindcheck-packages"
  rm -rf "$root"
  mv "$root.tmp" "$root"
  echo "install-resolved.sh: $root ready with: $want"
fi

# Prove it runs and that the host's DNS was not touched.
LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu/systemd" "$root/lib/systemd/systemd-resolved" --version | head -n 1
if [ -L /etc/resolv.conf ]; then
  echo "install-resolved.sh: note: /etc/resolv.conf is a symlink ($(readlink /etc/resolv.conf)); not made by this script" >&2
fi
getent hosts deb.debian.org >/dev/null || echo "install-resolved.sh: note: getent hosts deb.debian.org fails (DNS here was already broken?)" >&2
