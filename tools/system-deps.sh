#!/usr/bin/env bash
# Installs the system programs the project needs and pip cannot provide:
# Graphviz's `dot` (the renderer), Debian's Chromium (for the browser tests) and node with npm
# (for JupyterHub's configurable-http-proxy, which tools/proxy-deps.sh then installs with npm).
# Usage: tools/system-deps.sh graphviz [chromium] [node]
set -euo pipefail

want=()
for name in "$@"; do
  case "$name" in
    graphviz) command -v dot >/dev/null 2>&1 || want+=(graphviz) ;;
    chromium) [ -x /usr/bin/chromium ] || want+=(chromium) ;;
    node) { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || want+=(nodejs npm) ;;
    *) echo "system-deps: unknown component '$name'" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "system-deps: need ${want[*]} from apt, but not root and no sudo." >&2
  echo "  Install them yourself: apt-get install ${want[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: no apt-get here; install ${want[*]} with your package manager." >&2
  exit 1
fi
echo "system-deps: installing ${want[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
