#!/bin/sh
# Exim as a test oracle: exim4 conflicts as a package with the host's sendmail, so it gets its own Debian root
# (/var/cache/bindcheck-roots/exim) that test/integration/exim.test.ts chroots into. Idempotent.
set -eu
here=$(dirname "$0")
exec sh "$here/make-root.sh" exim exim4-daemon-light strace iproute2 python3-minimal procps
