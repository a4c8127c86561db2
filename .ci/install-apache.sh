#!/bin/sh
# The real apache for bindcheck's apache integration suite (Debian 12, as root), installed with nothing started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-apache.sh apache2 apache2-utils ssl-cert openssl strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x apache2 >/dev/null 2>&1; then
  echo "install-apache.sh: note: a apache2 process is running (not started by this script): $(pgrep -x apache2 | tr '\n' ' ')" >&2
fi
echo "install-apache.sh: $(apache2 -v 2>&1 | head -n 1 || true)"
