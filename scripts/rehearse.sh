#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs the packages needed to build
# (scripts/debian-build-packages.txt), builds, and runs a full unattended rehearsal ceremony
# on the built-in default plan with simulated tokens.
#
#   bash scripts/rehearse.sh [OUT_DIR]      (default /tmp/rehearsal; add INTERACTIVE=1 to be asked)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
out=${1:-/tmp/rehearsal}

need_apt=()
for pkg in $(grep -v '^#' scripts/debian-build-packages.txt); do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing build packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
ensure_pinned_toolchain
if [ "${INTERACTIVE:-0}" = 1 ]; then
  exec cargo run --release --locked -p tuf-ceremony -- rehearse --out "$out"
fi
exec cargo run --release --locked -p tuf-ceremony -- rehearse --out "$out" --yes
