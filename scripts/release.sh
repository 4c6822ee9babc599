#!/usr/bin/env bash
# Builds a release into OUTDIR: the tuf-ceremony binary, its man pages and shell completions,
# the runbook and docs, the CHANGELOG, a Debian package, BUILDINFO.txt and SHA256SUMS over all.
#
#   bash scripts/release.sh OUTDIR [--target-dir DIR]
#
# The same commit built with the same toolchain (rust-toolchain.toml) gives the same bytes, in
# any folder and on any machine: paths are remapped, times come from the commit
# (SOURCE_DATE_EPOCH), nothing records the host. scripts/check-release.sh proves it.
# Cargo builds in OUTDIR/.build (or --target-dir DIR), never in the development target folder.
# Outside a git checkout (a source tarball) set SOURCE_DATE_EPOCH and TUF_CEREMONY_GIT_COMMIT.
set -euo pipefail

usage() {
  echo "usage: bash scripts/release.sh OUTDIR [--target-dir DIR]" >&2
  exit 2
}
out="" target=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target-dir) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
    -*) usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
  esac
done
[ -n "$out" ] || usage

root=$(cd "$(dirname "$0")/.." && pwd -P)
(cd "$root" && source scripts/toolchain.sh && ensure_pinned_toolchain)
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
if [ -n "$(ls -A "$out" | grep -vx '.build' || true)" ]; then
  echo "error: $out holds files from before; give an empty folder (a .build folder may stay)" >&2
  exit 2
fi
target=${target:-$out/.build}
mkdir -p "$target"
target=$(cd "$target" && pwd -P)

export LC_ALL=C TZ=UTC
umask 022

# The commit fixes every time in the release.
if [ "$(git -C "$root" rev-parse --show-toplevel 2>/dev/null || true)" = "$root" ]; then
  commit=$(git -C "$root" rev-parse HEAD)
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct)
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    echo "WARNING: $root has uncommitted changes: this is not a release of commit $commit" >&2
  fi
elif [ -n "${SOURCE_DATE_EPOCH:-}" ] && [ -n "${TUF_CEREMONY_GIT_COMMIT:-}" ]; then
  commit=$TUF_CEREMONY_GIT_COMMIT
else
  echo "error: $root is not a git checkout: set SOURCE_DATE_EPOCH and TUF_CEREMONY_GIT_COMMIT" >&2
  exit 2
fi
export SOURCE_DATE_EPOCH
version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
arch=$(dpkg --print-architecture)

# Only rust-toolchain.toml chooses the compiler, and nothing from the environment or a user's
# cargo config adds flags: CARGO_ENCODED_RUSTFLAGS replaces every other source of rustflags.
unset RUSTUP_TOOLCHAIN RUSTFLAGS RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTFLAGS \
  CARGO_BUILD_RUSTC_WRAPPER CARGO_BUILD_TARGET CARGO_PROFILE_RELEASE_DEBUG CARGO_PROFILE_RELEASE_STRIP
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
# Most general first: rustc and gcc both let the last matching prefix win (target may lie
# inside the checkout). Each also in its resolved form, in case it is a symbolic link.
maps=()
for pair in "$cargo_home=/cargo" "$rustup_home=/rustup" "$root=/usr/src/tuf-ceremony" "$target=/target"; do
  from=${pair%%=*} to=${pair#*=}
  maps+=("$from=$to")
  real=$(realpath -m "$from")
  [ "$real" = "$from" ] || maps+=("$real=$to")
done
rustflags=() cflags=""
for m in "${maps[@]}"; do
  rustflags+=("--remap-path-prefix=$m")
  cflags+=" -ffile-prefix-map=$m"
done
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; echo "${rustflags[*]}")
export CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR=$target CARGO_INCREMENTAL=0
# C code built by build scripts (the vendored libusb): the same remapping for gcc.
export CFLAGS="${CFLAGS:-}$cflags"

cd "$root"
echo "== building tuf-ceremony $version (commit $commit) in $target"
cargo build --release --locked -p tuf-ceremony
bin=$target/release/tuf-ceremony
leaks=("$root" "$target" "$cargo_home" "$rustup_home")
[ "${HOME:-/}" = / ] || leaks+=("$HOME/")
for leak in "${leaks[@]}"; do
  if grep -aqF -- "$leak" "$bin"; then
    echo "error: $bin contains the path $leak" >&2
    exit 1
  fi
done

echo "== man pages and completions from src/cli.rs"
gen=$target/gen-cli-docs
rm -rf "$gen"
# A separate cargo call: the generator's crates never join the binary's feature resolution.
cargo run --release --locked -q -p gen-cli-docs -- "$gen" --date "$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)"

install -m0755 "$bin" "$out/tuf-ceremony"
install -d "$out/man" "$out/completions" "$out/doc/runbook" "$out/doc/docs"
install -m0644 "$gen"/man/*.1 "$out/man/"
install -m0644 "$gen"/completions/* "$out/completions/"
install -m0644 README.md CHANGELOG.md "$out/doc/"
install -m0644 runbook/*.md "$out/doc/runbook/"
install -m0644 docs/*.md "$out/doc/docs/"
if compgen -G 'docs/schemas/*.json' >/dev/null; then
  install -d "$out/doc/docs/schemas"
  install -m0644 docs/schemas/*.json "$out/doc/docs/schemas/"
fi
{
  echo "tuf-ceremony $version"
  echo "commit $commit"
  echo "SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"
  echo "architecture $arch"
  rustc -vV
  cargo -V
} > "$out/BUILDINFO.txt"

echo "== Debian package"
# dpkg-shlibdeps wants a source tree: a stub debian/control, the package in debian/<name>/.
work=$target/deb
rm -rf "$work"
pkg=$work/debian/tuf-ceremony
doc=$pkg/usr/share/doc/tuf-ceremony
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/share/man/man1" "$pkg/usr/share/bash-completion/completions" \
  "$pkg/usr/share/zsh/vendor-completions" "$pkg/usr/share/fish/vendor_completions.d"
install -m0755 "$bin" "$pkg/usr/bin/tuf-ceremony"
for page in "$out"/man/*.1; do
  gzip -9n < "$page" > "$pkg/usr/share/man/man1/$(basename "$page").gz"
done
install -m0644 "$out/completions/tuf-ceremony.bash" "$pkg/usr/share/bash-completion/completions/tuf-ceremony"
install -m0644 "$out/completions/_tuf-ceremony" "$pkg/usr/share/zsh/vendor-completions/_tuf-ceremony"
install -m0644 "$out/completions/tuf-ceremony.fish" "$pkg/usr/share/fish/vendor_completions.d/tuf-ceremony.fish"
install -d "$doc"
cp -R "$out"/doc/runbook "$out"/doc/docs "$doc/"
install -m0644 README.md "$doc/"
install -m0644 packaging/debian/copyright "$doc/copyright"
gzip -9n < CHANGELOG.md > "$doc/changelog.gz"
chmod -R u=rwX,go=rX "$pkg/usr"
chmod 0755 "$pkg/usr/bin/tuf-ceremony"

printf 'Source: tuf-ceremony\n\nPackage: tuf-ceremony\nArchitecture: any\n' > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -edebian/tuf-ceremony/usr/bin/tuf-ceremony | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "error: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size_kib=$(find "$pkg/usr" -type f -printf '%s\n' | awk '{s += $1} END {print int((s + 1023) / 1024)}')
cat > "$pkg/DEBIAN/control" <<EOF
Package: tuf-ceremony
Version: $version
Architecture: $arch
Maintainer: tuf-ceremony maintainers <maintainers@tuf-ceremony.invalid>
Installed-Size: $size_kib
Depends: $depends
Suggests: pcscd, opensc, softhsm2
Section: admin
Priority: optional
Description: offline key ceremonies for The Update Framework (TUF)
 Guided, resumable key ceremonies on an air-gapped machine: one reviewed plan provisions
 keys on YubiKey PIV, YubiHSM 2, PKCS#11 tokens or software keys, builds and
 threshold-signs root, targets and offline delegated roles, verifies them as an auditor
 would, and exports them with a hash-chained transcript. Also re-signs, claims projects
 (PEP 480), signs apart, and audits metadata and key attestations.
 .
 PKCS#11 modules (OpenSC, SoftHSM2) and pcscd are loaded or reached at run time only.
EOF
(cd "$pkg" && find usr -type f | sort | xargs md5sum) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=tuf-ceremony_${version}_${arch}.deb
# One compressor thread: multithreaded xz output depends on the number of cores.
dpkg-deb --root-owner-group -Zxz --threads-max=1 --build "$pkg" "$out/$deb" >/dev/null

echo "== SHA256SUMS"
(cd "$out" && find . -path ./.build -prune -o -type f ! -name SHA256SUMS -print | sed 's|^\./||' | sort \
  | xargs sha256sum > SHA256SUMS)
echo "tuf-ceremony $version (commit $commit): $out"
grep -E " (tuf-ceremony|$deb)\$" "$out/SHA256SUMS"
