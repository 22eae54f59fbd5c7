#!/usr/bin/env bash
# Installs Debian's Chromium for the browser end-to-end test (e2e/).
# Idempotent: does nothing when /usr/bin/chromium already exists.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	echo "install-browser: /usr/bin/chromium present: $(/usr/bin/chromium --version 2>/dev/null || true)"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "install-browser: installing Debian chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium

if [ ! -x /usr/bin/chromium ]; then
	echo "install-browser: FAILED: /usr/bin/chromium missing after apt-get install" >&2
	exit 1
fi
echo "install-browser: installed $(/usr/bin/chromium --version 2>/dev/null || true)"
