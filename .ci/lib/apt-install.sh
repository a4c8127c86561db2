#!/bin/sh
# Install Debian packages for bindcheck's real-daemon suites (Debian 12, as root): idempotent, non-interactive,
# and nothing is started — a temporary policy-rc.d refuses every service start during the install; the previous
# policy (or none) is restored afterwards.
#   .ci/lib/apt-install.sh NAME PACKAGE...      (NAME labels the messages)
set -eu
name=$1; shift
if [ "$(id -u)" -ne 0 ]; then
  echo "$name: must run as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Lock::Timeout: other installs may run concurrently on a shared host; wait for their dpkg lock.
APT_OPTS="-y -q -o DPkg::Lock::Timeout=300 --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

missing=""
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "$name: all present: $*"
  exit 0
fi
ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get update -q

POLICY=/usr/sbin/policy-rc.d
saved="$POLICY.bindcheck-$name-saved"
had_policy=0
if [ -e "$POLICY" ]; then
  had_policy=1
  cp -p "$POLICY" "$saved"
fi
restore_policy() {
  if [ "$had_policy" -eq 1 ]; then mv -f "$saved" "$POLICY"; else rm -f "$POLICY"; fi
}
trap restore_policy EXIT INT TERM
printf '#!/bin/sh\n# bindcheck %s: start no services during install\nexit 101\n' "$name" > "$POLICY"
chmod 755 "$POLICY"

echo "$name: installing:$missing"
# shellcheck disable=SC2086
if ! apt-get install $APT_OPTS $missing; then
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install $APT_OPTS $missing
fi
restore_policy
trap - EXIT INT TERM
