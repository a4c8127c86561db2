#!/bin/sh
# Install the real daemons bindcheck's integration tests use as oracles (Debian 12, as root).
# Idempotent and non-interactive; nothing is started: a temporary policy-rc.d refuses every
# service start during the install and is removed afterwards.
set -eu

if [ "$(id -u)" -ne 0 ]; then
  echo "install-daemons.sh: must run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS="-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# Packages: sendmail (binary + m4 config kit), plus the harness's tools.
PKGS="sendmail-bin sendmail-cf m4 strace iproute2 python3 util-linux procps"

missing=""
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-daemons.sh: all present:$PKGS"
else
  # A fresh container has no package lists.
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    apt-get update -q
  fi

  POLICY=/usr/sbin/policy-rc.d
  had_policy=0
  if [ -e "$POLICY" ]; then
    had_policy=1
    cp -p "$POLICY" "$POLICY.bindcheck-saved"
  fi
  restore_policy() {
    if [ "$had_policy" -eq 1 ]; then
      mv -f "$POLICY.bindcheck-saved" "$POLICY"
    else
      rm -f "$POLICY"
    fi
  }
  trap restore_policy EXIT INT TERM
  printf '#!/bin/sh\n# bindcheck install-daemons.sh: start no services during install\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"

  echo "install-daemons.sh: installing:$missing"
  # shellcheck disable=SC2086
  if ! apt-get install $APT_OPTS $missing; then
    # Stale lists (404 on a superseded version): refresh once and retry.
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install $APT_OPTS $missing
  fi

  restore_policy
  trap - EXIT INT TERM
fi

# Debian's maintainer scripts may still have started a daemon without invoke-rc.d; stop it by pid.
for pid in $(pgrep -x sendmail-mta 2>/dev/null; pgrep -f '^sendmail: ' 2>/dev/null); do
  echo "install-daemons.sh: stopping stray sendmail pid $pid"
  kill "$pid" 2>/dev/null || true
done

# Where the binary is, for the record.
for b in /usr/lib/sm.bin/sendmail /usr/sbin/sendmail-mta; do
  [ -e "$b" ] && echo "install-daemons.sh: $b -> $(readlink -f "$b")"
done
exit 0
