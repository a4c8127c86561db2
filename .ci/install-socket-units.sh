#!/bin/sh
# The real systemd for bindcheck's .socket-unit integration suite (Debian 12, as root): /lib/systemd/systemd, run
# there as `systemd --user` inside private namespaces, and /usr/bin/systemd-socket-activate. Nothing is started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-socket-units.sh systemd strace iproute2 python3 util-linux procps
echo "install-socket-units.sh: $(/lib/systemd/systemd --version 2>&1 | head -n 1 || true)"
