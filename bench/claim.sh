#!/usr/bin/env bash
# Issue 6 benchmark: add 1,000 projects to a `claimed` role that already delegates to
# 100,000 (≈ 48 MB, made by `bench_core gen`), re-sign it with a software key, write it.
# Goal: under 1 s and peak memory under 3x the file size. Prints time and peak RSS.
#
#   bench/claim.sh            # REPS=5, median
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
DATA=${BENCH_DATA:-bench/data}
ADD=${ADD:-1000}
BIN=target/release/examples/bench_core
# Examples build with the dev-dependencies, and yubihsm's MockHsm (a test-only dev-dependency
# feature) refuses to compile without debug assertions: this flag gives that one crate debug
# assertions in example builds only (the measured code never calls that crate).
cargo build --release --example bench_core --config profile.release.package.yubihsm.debug-assertions=true >/dev/null 2>&1 || { cargo build --release --example bench_core --config profile.release.package.yubihsm.debug-assertions=true; exit 1; }
[ -f "$DATA/claimed.json" ] || "$BIN" gen "$DATA"
size=$(stat -c %s "$DATA/claimed.json")
times=(); rss=()
for _ in $(seq "$REPS"); do
  out=$( { /usr/bin/time -v "$BIN" claim "$DATA" "$ADD" 2>&1 1>&3 3>&-; } 3>&1 )
  t=$(printf '%s\n' "$out" | awk '/^claim_total_s/{print $2}')
  r=$(printf '%s\n' "$out" | awk -F': ' '/Maximum resident set size/{print $2}')
  times+=("$t"); rss+=("$r")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mt=$(median "${times[@]}"); mr=$(median "${rss[@]}")
awk -v t="$mt" -v r="$mr" -v s="$size" -v add="$ADD" 'BEGIN{
  ratio = r*1024/s;
  printf "claim %d projects into a %d-byte claimed role (100,000 projects), re-sign, write\n", add, s;
  printf "  time      %.3f s   (goal < 1 s)       %s\n", t, (t < 1 ? "PASS" : "FAIL");
  printf "  peak RSS  %.1f MB  (%.2fx file; goal < 3x) %s\n", r/1024, ratio, (ratio < 3 ? "PASS" : "FAIL");
}'
