#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian 12 machine and runs every test.
# Missing dependencies are failures here, never silent skips (TUF_CEREMONY_REQUIRE_ALL=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

need_apt=()
for pkg in $(cat scripts/debian-build-packages.txt scripts/debian-packages.txt | grep -v '^#'); do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import tuf, securesystemslib, jsonschema' 2>/dev/null; then
  echo "== creating .venv with pinned python-tuf"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
fi

export TUF_CEREMONY_PYTHON="$PWD/.venv/bin/python"
export TUF_CEREMONY_REQUIRE_ALL=1
ensure_pinned_toolchain
echo "== cargo test"
cargo test --workspace --locked
echo "== release check (two reproducible builds, the .deb installed and removed)"
bash scripts/check-release.sh
