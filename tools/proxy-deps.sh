#!/usr/bin/env bash
# Installs configurable-http-proxy (JupyterHub's proxy, an npm package) into a project folder, not globally.
# Usage: tools/proxy-deps.sh DIR   -> DIR/node_modules/.bin/configurable-http-proxy
set -euo pipefail
dir="${1:?usage: tools/proxy-deps.sh DIR}"
program="$dir/node_modules/.bin/configurable-http-proxy"
[ -x "$program" ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "proxy-deps: configurable-http-proxy needs node and npm; install them (apt-get install nodejs npm)." >&2
  exit 1
fi
mkdir -p "$dir"
echo "proxy-deps: installing configurable-http-proxy into $dir with npm"
npm install --prefix "$dir" --no-audit --no-fund --loglevel=error 'configurable-http-proxy@^5' >/dev/null
[ -x "$program" ] || { echo "proxy-deps: npm did not install $program" >&2; exit 1; }
