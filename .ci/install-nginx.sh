#!/bin/sh
# The real nginx for bindcheck's nginx integration suite (Debian 12, as root), installed with nothing started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-nginx.sh nginx libnginx-mod-stream strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x nginx >/dev/null 2>&1; then
  echo "install-nginx.sh: note: a nginx process is running (not started by this script): $(pgrep -x nginx | tr '\n' ' ')" >&2
fi
echo "install-nginx.sh: $(nginx -v 2>&1 | head -n 1 || true)"
