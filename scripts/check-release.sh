#!/usr/bin/env bash
# Proves the release of HEAD is reproducible and installs: clones HEAD into two folders of
# different path lengths, runs scripts/release.sh in each with its own target folder, and
# requires byte-identical SHA256SUMS (so the same binary and .deb). Then, as root, installs
# the .deb, runs the installed program, renders every man page, completes subcommands and
# options with the installed bash, fish and zsh completions, and removes the package again.
#
#   bash scripts/check-release.sh [WORKDIR]     (default: a new folder under /tmp, removed after)
#
# Without root the install part is skipped, unless TUF_CEREMONY_REQUIRE_ALL=1 (CI).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
commit=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  echo "note: uncommitted changes in $root are not checked: this checks commit $commit"
fi

if [ $# -ge 1 ]; then
  work=$1 keep=1
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/tuf-ceremony-release.XXXXXX) keep=0
fi
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then dpkg -r tuf-ceremony >/dev/null || true; fi
  if [ "$keep" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# Two clones whose paths differ in length: a path that leaks into the binary shows.
a=$work/a/tuf-ceremony
b=$work/b-a-longer-folder-name/another-name-for-the-clone
for dir in "$a" "$b"; do
  rm -rf "$dir" "$dir.out"
  git clone -q --no-checkout "$root" "$dir"
  git -C "$dir" checkout -q --detach "$commit"
done
for dir in "$a" "$b"; do
  start=$SECONDS
  bash "$dir/scripts/release.sh" "$dir.out" > "$dir.log" 2>&1 || {
    tail -n 40 "$dir.log"
    echo "FAILED: release.sh in $dir (log: $dir.log)" >&2
    exit 1
  }
  echo "release build in $dir: $((SECONDS - start)) s"
done

if ! cmp -s "$a.out/SHA256SUMS" "$b.out/SHA256SUMS"; then
  echo "FAILED: two builds of commit $commit differ:" >&2
  diff "$a.out/SHA256SUMS" "$b.out/SHA256SUMS" >&2 || true
  # Say where, without diffoscope: text files as a diff, binaries by their differing strings.
  join -j 2 <(sort -k2 "$a.out/SHA256SUMS") <(sort -k2 "$b.out/SHA256SUMS") | awk '$2 != $3 {print $1}' |
    while read -r f; do
      echo "--- $f" >&2
      if grep -Iq . "$a.out/$f"; then
        diff -u "$a.out/$f" "$b.out/$f" | head -n 40 >&2 || true
      else
        echo "$(cmp -l "$a.out/$f" "$b.out/$f" | wc -l) bytes differ; strings only in one build:" >&2
        diff <(strings -n 8 "$a.out/$f") <(strings -n 8 "$b.out/$f") | head -n 20 >&2 || true
      fi
    done
  exit 1
fi
sha=$(awk '$2 == "tuf-ceremony" {print $1}' "$a.out/SHA256SUMS")
deb=$(cd "$a.out" && ls tuf-ceremony_*.deb)
echo "reproducible: SHA256SUMS identical ($(wc -l < "$a.out/SHA256SUMS") files); tuf-ceremony sha256 $sha"

# Every man page renders without a warning, from the bytes the package carries.
mkdir -p "$work/deb"
dpkg-deb -x "$a.out/$deb" "$work/deb"
pages=0
for page in "$work"/deb/usr/share/man/man1/*.1.gz; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    echo "FAILED: man -l $(basename "$page"): $warnings" >&2
    exit 1
  fi
  pages=$((pages + 1))
done
[ "$pages" -eq "$(ls "$a.out"/man/*.1 | wc -l)" ] || { echo "FAILED: the .deb has $pages man pages" >&2; exit 1; }
echo "man pages: $pages render without warnings"

if [ "$(id -u)" != 0 ]; then
  if [ "${TUF_CEREMONY_REQUIRE_ALL:-}" = 1 ]; then
    echo "FAILED: installing the .deb needs root" >&2
    exit 1
  fi
  echo "skipped: installing the .deb needs root"
  exit 0
fi
if dpkg -s tuf-ceremony >/dev/null 2>&1; then
  echo "FAILED: tuf-ceremony is already installed; this check installs and removes it (dpkg -r tuf-ceremony)" >&2
  exit 1
fi
installed=1
dpkg -i "$a.out/$deb" >/dev/null

line=$(/usr/bin/tuf-ceremony --version)
[ "$line" = "tuf-ceremony $(sed -n 1p "$a.out/BUILDINFO.txt" | cut -d' ' -f2) (commit $commit, clean)" ] || {
  echo "FAILED: /usr/bin/tuf-ceremony --version says: $line" >&2
  exit 1
}
json=$(/usr/bin/tuf-ceremony version --json)
grep -q "\"sha256\": \"$sha\"" <<<"$json" || { echo "FAILED: version --json: $json" >&2; exit 1; }
[ "$(sha256sum /usr/bin/tuf-ceremony | cut -d' ' -f1)" = "$sha" ] || { echo "FAILED: installed binary differs" >&2; exit 1; }
echo "installed: $line"

# The bash completion, loaded as bash-completion would, completes subcommands and options.
complete_words() {
  bash -c '
    source /usr/share/bash-completion/completions/tuf-ceremony
    fn=$(complete -p tuf-ceremony | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" tuf-ceremony "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"' bash "$@"
}
expect_completion() {
  local want=$1
  shift
  local got
  got=$(complete_words "$@")
  if ! grep -qx -- "$want" <<<"$got"; then
    echo "FAILED: bash completion of '$*' lacks $want" >&2
    exit 1
  fi
}
expect_completion verify tuf-ceremony ""
expect_completion resign tuf-ceremony ""
expect_completion check tuf-ceremony plan c
expect_completion --json tuf-ceremony version --
echo "bash completion: completes subcommands and their options"

# fish: the installed completion lists subcommands, options and an option's choices.
expect_fish() {
  local want=$1 line=$2 got
  got=$(fish --no-config -c "source /usr/share/fish/vendor_completions.d/tuf-ceremony.fish; complete -C '$line'" | cut -f1)
  grep -qx -- "$want" <<<"$got" || { echo "FAILED: fish completion of '$line' lacks $want" >&2; exit 1; }
}
expect_fish verify "tuf-ceremony "
expect_fish check "tuf-ceremony plan c"
expect_fish --dry-run "tuf-ceremony resign --dr"
expect_fish yubihsm2 "tuf-ceremony plan new --token "
echo "fish completion: completes subcommands, options and choices"

# zsh: an interactive zsh in a pseudo-terminal (zsh/zpty) with the installed completion
# types a Tab; the line it then holds is printed.
zsh_line() {
  local script
  script=$(mktemp)
  cat >"$script" <<'ZSH'
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=(/usr/share/zsh/vendor-completions \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w -n z "$1"$'\t'
sleep 1
zpty -w -n z $'\x01echo LINE:\x0d'
sleep 1
out=""
while zpty -r -t z chunk; do out+=$chunk; done
print -r -- "$out" | tr -d '\r' | grep -a "^LINE:" | tail -1
zpty -d z
ZSH
  timeout 30 zsh -f "$script" "$1"
  rm -f "$script"
}
for pair in "tuf-ceremony resign --dry|tuf-ceremony resign --dry-run" "tuf-ceremony import-sig|tuf-ceremony import-signatures"; do
  got=$(zsh_line "${pair%%|*}")
  [ "$got" = "LINE:${pair#*|} " ] || [ "$got" = "LINE:${pair#*|}" ] || {
    echo "FAILED: zsh completion of '${pair%%|*}' gave '$got'" >&2
    exit 1
  }
done
echo "zsh completion: completes subcommands and options"

dpkg -r tuf-ceremony >/dev/null
installed=0
[ ! -e /usr/bin/tuf-ceremony ] || { echo "FAILED: dpkg -r left /usr/bin/tuf-ceremony" >&2; exit 1; }
echo "release check passed: commit $commit, tuf-ceremony sha256 $sha"
