#!/bin/sh
# The real haproxy for bindcheck's haproxy integration suite (Debian 12: 2.6.x, as root), installed with nothing started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-haproxy.sh haproxy strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x haproxy >/dev/null 2>&1; then
  echo "install-haproxy.sh: note: a haproxy process is running (not started by this script): $(pgrep -x haproxy | tr '\n' ' ')" >&2
fi
echo "install-haproxy.sh: $(haproxy -v 2>&1 | head -n 1 || true)"
