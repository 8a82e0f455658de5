#!/usr/bin/env bash
# Install Debian's Chromium for the end-to-end browser test (tests/test_web_browser.py) when it is
# missing. Playwright (the Python package, from the `test` extra) drives this browser; we never run
# `playwright install`, which downloads browser builds of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian chromium (for the browser test)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
