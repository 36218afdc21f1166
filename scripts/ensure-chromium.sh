#!/usr/bin/env bash
# Make a Chromium available for the explorer's browser tests (Playwright drives the system
# browser; its own browser download cannot work everywhere).
set -u
for name in chromium chromium-browser; do command -v "$name" >/dev/null 2>&1 && exit 0; done
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }
if command -v apt-get >/dev/null 2>&1; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v dnf >/dev/null 2>&1; then as_root dnf install -y chromium
elif command -v brew >/dev/null 2>&1; then brew install --cask chromium
fi
for name in chromium chromium-browser; do command -v "$name" >/dev/null 2>&1 && exit 0; done
echo "warning: Chromium is not installed and could not be installed here; the explorer's" >&2
echo "         browser tests need it (e.g. 'apt-get install chromium')." >&2
exit 1
