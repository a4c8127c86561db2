#!/bin/sh
# The real sshd for bindcheck's sshd integration suite (Debian 12, as root), installed with nothing started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-sshd.sh openssh-server openssh-client strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x sshd >/dev/null 2>&1; then
  echo "install-sshd.sh: note: a sshd process is running (not started by this script): $(pgrep -x sshd | tr '\n' ' ')" >&2
fi
echo "install-sshd.sh: $(/usr/sbin/sshd -V 2>&1 | head -n 1 || true)"
