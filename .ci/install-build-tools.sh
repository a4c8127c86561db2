#!/bin/sh
# A C compiler for bindcheck's optional native /proc scanner (native/procscan.c, built by `npm ci` through the
# package's install script): with it CI runs and compares both owner scans (test/live/native-scan.test.ts).
# Without it `npm ci` still succeeds and bindcheck uses the JavaScript scan. Debian 12, as root, idempotent.
set -eu
here=$(dirname "$0")
"$here/lib/apt-install.sh" install-build-tools.sh gcc libc6-dev util-linux iproute2
echo "install-build-tools.sh: $(cc --version 2>/dev/null | head -n 1 || echo 'no cc')"
