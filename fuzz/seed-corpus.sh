#!/usr/bin/env bash
# Seeds fuzz/corpus/parse_canonicalize_verify from the valid metadata in fixtures/
# (python-tuf vectors and the Sigstore root chain). The corpus folder is gitignored.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpus/parse_canonicalize_verify"
mkdir -p "$out"
for f in "$here"/../fixtures/tuf-vectors/*.json; do cp "$f" "$out/vec-$(basename "$f")"; done
for f in "$here"/../fixtures/sigstore-root-chain/*.json; do cp "$f" "$out/sigstore-$(basename "$f")"; done
echo "seeded $(ls "$out" | wc -l) files in $out"
