# Sourced (not run) by the scripts that call cargo, from the repository root.
#
# rust-toolchain.toml pins the Rust release the project is built with, so rustup looks for a
# toolchain by that version's name. A machine whose installed stable toolchain *is* that release
# (Debian 12 build machines here: stable 1.95.0, and no route to static.rust-lang.org) may not
# know it by that name, and `rustup toolchain link` refuses names that look like releases; such a
# machine gets the link rustup itself would make (a symlink in $RUSTUP_HOME/toolchains). Any
# other machine installs the pinned release with rustup, or stops saying what to do.
ensure_pinned_toolchain() {
  command -v rustup >/dev/null 2>&1 || return 0 # rustc from elsewhere: the build says if it is too old
  local pinned host home have sysroot
  pinned=$(sed -n 's/^channel *= *"\([^"]*\)".*/\1/p' rust-toolchain.toml)
  [ -n "$pinned" ] || { echo "error: rust-toolchain.toml: no channel" >&2; return 1; }
  if rustup toolchain list | grep -q "^$pinned-"; then
    return 0
  fi
  have=$(RUSTUP_TOOLCHAIN=stable rustc --version 2>/dev/null | awk '{print $2}')
  if [ "$have" = "$pinned" ]; then
    host=$(RUSTUP_TOOLCHAIN=stable rustc -vV | sed -n 's/^host: //p')
    home=${RUSTUP_HOME:-$HOME/.rustup}
    sysroot=$(RUSTUP_TOOLCHAIN=stable rustc --print sysroot)
    echo "== rust-toolchain.toml pins Rust $pinned, which is this machine's stable: naming it $pinned-$host"
    ln -s "$sysroot" "$home/toolchains/$pinned-$host"
    return 0
  fi
  echo "== rust-toolchain.toml pins Rust $pinned (this machine's stable is ${have:-absent}): rustup toolchain install $pinned"
  rustup toolchain install --profile minimal "$pinned" || {
    echo "error: Rust $pinned is needed (rust-toolchain.toml) and rustup could not install it here" >&2
    return 1
  }
}
