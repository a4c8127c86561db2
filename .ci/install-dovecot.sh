#!/bin/sh
# The real dovecot for bindcheck's dovecot integration suite (Debian 12, as root), installed with nothing started.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-dovecot.sh dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-lmtpd ssl-cert openssl strace iproute2 python3 util-linux procps
# Nothing should be running: policy-rc.d refused the start. Say so if something is; stop nothing not ours.
if pgrep -x dovecot >/dev/null 2>&1; then
  echo "install-dovecot.sh: note: a dovecot process is running (not started by this script): $(pgrep -x dovecot | tr '\n' ' ')" >&2
fi
echo "install-dovecot.sh: $(dovecot --version 2>&1 | head -n 1 || true)"
