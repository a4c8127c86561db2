#!/bin/sh
# Install the real Apache httpd (apache2) that bindcheck's apache integration tests use as their oracle (Debian 12, as root).
# Idempotent and non-interactive; nothing is started: a temporary policy-rc.d refuses every service start
# during the install and the previous policy (or none) is restored afterwards. apache2 conflicts with nothing bindcheck installs.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "install-apache.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS="-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# apache2 brings apache2-bin (the daemon), apache2-utils and Debian's /etc/apache2 layout with envvars;
# ssl-cert makes the snakeoil certificate default-ssl.conf names; openssl makes throwaway certificates.
PKGS="apache2 apache2-utils ssl-cert openssl strace iproute2 python3 util-linux procps"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-apache.sh: all present:$PKGS"
else
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt-get update -q
  fi

  POLICY=/usr/sbin/policy-rc.d
  had_policy=0
  if [ -e "$POLICY" ]; then
    had_policy=1
    cp -p "$POLICY" "$POLICY.bindcheck-apache-saved"
  fi
  restore_policy() {
    if [ "$had_policy" -eq 1 ]; then
      mv -f "$POLICY.bindcheck-apache-saved" "$POLICY"
    else
      rm -f "$POLICY"
    fi
  }
  trap restore_policy EXIT INT TERM
  printf '#!/bin/sh\n# bindcheck install-apache.sh: start no services during install\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"

  echo "install-apache.sh: installing:$missing"
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
if pgrep -x apache2 >/dev/null 2>&1; then
  echo "install-apache.sh: note: an apache2 process is running (not started by this script): $(pgrep -x apache2 | tr '\n' ' ')" >&2
fi

echo "install-apache.sh: $(apache2 -v 2>/dev/null | head -1 || echo 'apache2 -v failed')"
exit 0
