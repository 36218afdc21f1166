#!/usr/bin/env bash
# Make Graphviz's `dot` available: rendering pictures needs it, building DOT source does not.
set -u
command -v dot >/dev/null 2>&1 && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }
if command -v apt-get >/dev/null 2>&1; then
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
elif command -v dnf >/dev/null 2>&1; then as_root dnf install -y graphviz
elif command -v brew >/dev/null 2>&1; then brew install graphviz
fi
if ! command -v dot >/dev/null 2>&1; then
  echo "warning: Graphviz 'dot' is not installed and could not be installed here;" >&2
  echo "         install it with your package manager (e.g. 'apt-get install graphviz')." >&2
  exit 1
fi
