#!/bin/sh
# The real docker-proxy (Debian 12's docker.io, moby 20.10.24) for bindcheck's compose integration suite, installed
# as root with nothing started: policy-rc.d refuses docker.service/containerd.service, and no dockerd is run —
# the suite runs only the docker-proxy binary, inside a private network namespace, as the oracle for its bind().
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-docker-proxy.sh docker.io strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x dockerd >/dev/null 2>&1; then
  echo "install-docker-proxy.sh: note: a dockerd process is running (not started by this script): $(pgrep -x dockerd | tr '\n' ' ')" >&2
fi
p=$(command -v docker-proxy || ls /usr/sbin/docker-proxy /usr/bin/docker-proxy /usr/libexec/docker/docker-proxy 2>/dev/null | head -n 1 || true)
echo "install-docker-proxy.sh: docker-proxy at ${p:-(not found)}; $(dpkg-query -W -f='docker.io ${Version}' docker.io 2>/dev/null || true)"
