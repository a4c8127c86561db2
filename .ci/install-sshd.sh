#!/bin/sh
# Install the real OpenSSH sshd that bindcheck's sshd integration tests use as their oracle (Debian 12, as root).
# Idempotent and non-interactive; nothing is started: a temporary policy-rc.d refuses every service start
# during the install and the previous policy (or none) is restored afterwards. Nothing conflicts.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "install-sshd.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS="-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# openssh-server's postinst generates host keys and enables ssh.service; policy-rc.d keeps it from starting.
# The tests make their own host keys with ssh-keygen (openssh-client) and never use the host's.
PKGS="openssh-server openssh-client strace iproute2 python3 util-linux procps"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-sshd.sh: all present:$PKGS"
else
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt-get update -q
  fi

  POLICY=/usr/sbin/policy-rc.d
  had_policy=0
  if [ -e "$POLICY" ]; then
    had_policy=1
    cp -p "$POLICY" "$POLICY.bindcheck-sshd-saved"
  fi
  restore_policy() {
    if [ "$had_policy" -eq 1 ]; then
      mv -f "$POLICY.bindcheck-sshd-saved" "$POLICY"
    else
      rm -f "$POLICY"
    fi
  }
  trap restore_policy EXIT INT TERM
  printf '#!/bin/sh\n# bindcheck install-sshd.sh: start no services during install\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"

  echo "install-sshd.sh: installing:$missing"
  # shellcheck disable=SC2086
  if ! apt-get install $APT_OPTS $missing; then
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install $APT_OPTS $missing
  fi

  restore_policy
  trap - EXIT INT TERM
fi

# Nothing should be running: policy-rc.d refused the start. Say so if something is, but stop nothing this
# script did not start.
if pgrep -x sshd >/dev/null 2>&1; then
  echo "install-sshd.sh: note: an sshd process is running (not started by this script): $(pgrep -x sshd | tr '\n' ' ')" >&2
fi

echo "install-sshd.sh: $(dpkg-query -W -f='${Version}' openssh-server 2>/dev/null || echo 'openssh-server not installed')"
exit 0
