#!/usr/bin/env bash
# Install Debian's PostgreSQL server for the registry tests (tests/registry_support.py starts a
# throw-away server on a temporary directory; no cluster is created or started here).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian postgresql (for the registry tests)"
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq postgresql >/dev/null
