#!/bin/sh
# The real dnsmasq for bindcheck's dnsmasq integration suite (Debian 12, as root), installed with nothing started.
# dnsmasq-base carries the binary; dnsmasq adds Debian's unit, systemd-helper, /etc/dnsmasq.conf and /etc/dnsmasq.d (the
# suite bind-mounts its own configs over those two inside a private namespace). policy-rc.d keeps the unit from starting.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-dnsmasq.sh dnsmasq-base dnsmasq strace iproute2 python3 util-linux procps
# Nothing should be running: dnsmasq-base has no service, and policy-rc.d refused any start. Stop nothing not ours.
if pgrep -x dnsmasq >/dev/null 2>&1; then
  echo "install-dnsmasq.sh: note: a dnsmasq process is running (not started by this script): $(pgrep -x dnsmasq | tr '\n' ' ')" >&2
fi
echo "install-dnsmasq.sh: $(dnsmasq --version 2>&1 | head -n 1 || true)"
