#!/bin/sh
# Postfix's own Debian 12 root for the postfix oracle (test/integration/postfix.test.ts). Postfix conflicts with
# sendmail (installed on the host) as a package, so it lives in /var/cache/bindcheck-roots/postfix. Idempotent.
set -eu
here=$(dirname "$0")
exec "$here/make-root.sh" postfix postfix strace iproute2 python3-minimal procps
