#!/bin/sh
# Install the real nginx that bindcheck's nginx integration tests and bench/nginx-tree use as their oracle
# (Debian 12's nginx 1.22.1, as root).
# Idempotent and non-interactive; nothing is started: a temporary policy-rc.d refuses every service start
# during the install and the previous policy (or none) is restored afterwards.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "install-nginx.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Lock::Timeout: other installs may run concurrently on a shared CI host; wait for their dpkg lock.
APT_OPTS="-y -q -o DPkg::Lock::Timeout=300 --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# nginx (with Debian's default site) and its dynamic stream module (the stream {} scenarios); strace, iproute2, python3 and
# util-linux (unshare) for the real-daemon harness.
PKGS="nginx libnginx-mod-stream strace iproute2 python3 util-linux procps"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-nginx.sh: all present:$PKGS"
else
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt-get update -q -o DPkg::Lock::Timeout=300
  fi

  POLICY=/usr/sbin/policy-rc.d
  had_policy=0
  if [ -e "$POLICY" ]; then
    had_policy=1
    cp -p "$POLICY" "$POLICY.bindcheck-nginx-saved"
  fi
  restore_policy() {
    if [ "$had_policy" -eq 1 ]; then
      mv -f "$POLICY.bindcheck-nginx-saved" "$POLICY"
    else
      rm -f "$POLICY"
    fi
  }
  trap restore_policy EXIT INT TERM
  printf '#!/bin/sh\n# bindcheck install-nginx.sh: start no services during install\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"

  echo "install-nginx.sh: installing:$missing"
  # shellcheck disable=SC2086
  if ! apt-get install $APT_OPTS $missing; then
    apt-get update -q -o DPkg::Lock::Timeout=300
    # shellcheck disable=SC2086
    apt-get install $APT_OPTS $missing
  fi

  restore_policy
  trap - EXIT INT TERM
fi

# Nothing should be running: policy-rc.d refused the start. Say so if something is, but stop nothing this
# script did not start.
if pgrep -x nginx >/dev/null 2>&1; then
  echo "install-nginx.sh: note: an nginx process is running (not started by this script): $(pgrep -x nginx | tr '\n' ' ')" >&2
fi

# nginx -v prints to stderr.
echo "install-nginx.sh: $(nginx -v 2>&1 || echo 'nginx -v failed')"
exit 0
