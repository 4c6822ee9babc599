#!/usr/bin/env bash
# Side-by-side benchmark of `tuf-ceremony verify` against python-tuf 7.0.1 "verifying the
# folder" (bench/python_verify.py): the same folder, whole processes, /usr/bin/time -v,
# median of REPS alternating runs. Goals (the issue): ≥ 20× python-tuf's wall time, peak RSS
# under 200 MB.
#
#   bench/verify.sh               # REPS=5
#   REPS=9 bench/verify.sh
#   BENCH_REGEN=1 bench/verify.sh # regenerate bench/data (examples/bench_core.rs gen)
#
# The folder (bench/data/verify/, not committed): 1.root.json (made by python_verify.py
# make-root, benchmark keys only), targets.json, claimed.json (100,000 delegations, 48 MB)
# and bins.json (16384 hashed bins) from `bench_core gen`. Environment: REPS (default 5),
# BENCH_DATA (default bench/data), PYTHON (default .venv/bin/python), AT (the --at time),
# TUF_CEREMONY_BIN / BENCH_CORE_BIN (use these binaries instead of building them), PEERS
# (default 1; 0 skips the reference row: tough 0.19.0 doing python_verify.py's work,
# interop/tough-check's `tough-bench verify-folder`).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-5}
DATA=${BENCH_DATA:-bench/data}
PY=${PYTHON:-.venv/bin/python}
AT=${AT:-2027-01-01T00:00:00Z}
DIR=$DATA/verify
BIN=${TUF_CEREMONY_BIN:-target/release/tuf-ceremony}
GEN=${BENCH_CORE_BIN:-target/release/examples/bench_core}
PEERS=${PEERS:-1}
PEER_BIN=target/release/tough-bench

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
  echo "bench/verify.sh: GNU time is needed: apt-get install time" >&2
  exit 1
fi
if [ ! -x "$PY" ] || ! "$PY" -c 'import tuf, securesystemslib' 2>/dev/null; then
  echo "== creating .venv with pinned python-tuf"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
  PY=.venv/bin/python
fi
"$PY" -c 'import tuf, sys; sys.exit(0 if tuf.__version__ == "7.0.1" else "python-tuf " + tuf.__version__ + " is not 7.0.1")'

if [ -z "${TUF_CEREMONY_BIN:-}" ]; then
  echo "== building tuf-ceremony and examples/bench_core (release)"
  cargo build --release --locked --bin tuf-ceremony 2>&1 | grep -Ev '^\s*(Compiling|Finished|Blocking)' || true
  # Examples build with the dev-dependencies, and yubihsm's MockHsm (a test-only dev-dependency
  # feature) refuses to compile without debug assertions: this flag gives that one crate debug
  # assertions in example builds only (the tuf-ceremony binary measured here is built without it).
  cargo build --release --locked --example bench_core --config profile.release.package.yubihsm.debug-assertions=true 2>&1 |
    grep -Ev '^\s*(Compiling|Finished|Blocking)' || true
fi
[ -x "$BIN" ] && [ -x "$GEN" ] || { echo "bench/verify.sh: build failed" >&2; exit 1; }
if [ "$PEERS" != 0 ]; then
  echo "== building interop/tough-check's tough-bench (release)"
  cargo build --release --locked -p tough-check --bin tough-bench 2>&1 | grep -Ev '^\s*(Compiling|Finished|Blocking)' || true
  [ -x "$PEER_BIN" ] || { echo "bench/verify.sh: build failed" >&2; exit 1; }
fi

if [ -n "${BENCH_REGEN:-}" ] || [ ! -s "$DATA/claimed.json" ] || [ ! -s "$DATA/bins.json" ] || [ ! -s "$DATA/keys.json" ]; then
  echo "== generating $DATA (100,000 projects, 16384 bins)"
  mkdir -p "$DATA"
  "$GEN" gen "$DATA" >/dev/null
  rm -rf "$DIR"
fi
if [ ! -s "$DIR/1.root.json" ] || [ "$DATA/targets.json" -nt "$DIR/1.root.json" ]; then
  echo "== assembling $DIR"
  rm -rf "$DIR"
  mkdir -p "$DIR"
  for f in targets.json claimed.json bins.json keys.json; do
    ln "$DATA/$f" "$DIR/$f" 2>/dev/null || cp "$DATA/$f" "$DIR/$f"
  done
  "$PY" bench/python_verify.py make-root "$DIR"
  rm "$DIR/keys.json"
fi

RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT

# run SIDE REP CMD...: one whole-process measurement with /usr/bin/time -v.
run() {
  local side=$1 rep=$2
  shift 2
  if ! /usr/bin/time -v -o "$RESULTS/$side.$rep" "$@" >"$RESULTS/$side.$rep.out" 2>"$RESULTS/$side.$rep.err"; then
    echo "bench/verify.sh: $side failed: $*" >&2
    cat "$RESULTS/$side.$rep.out" "$RESULTS/$side.$rep.err" >&2
    exit 1
  fi
}

echo "== $REPS repetitions of each side (alternating; median reported); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
  printf '   repetition %s/%s\r' "$rep" "$REPS"
  run python "$rep" "$PY" bench/python_verify.py verify "$DIR"
  run rust "$rep" "$BIN" verify "$DIR" --at "$AT"
  if [ "$PEERS" != 0 ]; then
    run tough "$rep" "$PEER_BIN" verify-folder "$DIR"
  fi
done
echo

python3 - "$RESULTS" "$REPS" "$DIR" "$(cut -d' ' -f1-3 /proc/loadavg)" "$PEERS" <<'EOF'
import os, re, statistics, sys

results, reps, folder, load, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] != "0"

def parse(path):
    m = {}
    for line in open(path):
        k, _, v = line.strip().rpartition(": ")
        if k == "Elapsed (wall clock) time (h:mm:ss or m:ss)":
            parts = [float(p) for p in v.split(":")]
            m["wall"] = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        elif k == "User time (seconds)":
            m["user"] = float(v)
        elif k == "System time (seconds)":
            m["sys"] = float(v)
        elif k == "Maximum resident set size (kbytes)":
            m["rss_kb"] = float(v)
    m["cpu"] = m["user"] + m["sys"]
    return m

med = {}
for side in ("python", "rust") + (("tough",) if peers else ()):
    runs = [parse(os.path.join(results, f"{side}.{r}")) for r in range(1, reps + 1)]
    med[side] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
print(f"folder {folder}: {', '.join(sorted(os.listdir(folder)))}; {size / 1e6:.1f} MB; median of {reps} runs; load average {load}")
print()
hdr = f"{'':<28} {'python-tuf 7.0.1':>17} {'tuf-ceremony':>13} {'ratio':>8}  goal"
print(hdr)
print("-" * len(hdr))
py, rs = med["python"], med["rust"]
verdicts = []
for label, k in [("wall time (whole process)", "wall"), ("CPU time (user + system)", "cpu")]:
    ratio = py[k] / rs[k] if rs[k] > 0 else float("inf")
    goal = ""
    if k == "wall":
        ok = ratio >= 20
        verdicts.append(ok)
        goal = f"≥20×  {'PASS' if ok else 'FAIL'}"
    print(f"{label:<28} {py[k]:>16.2f}s {rs[k]:>12.2f}s {ratio:>7.1f}×  {goal}")
ok = rs["rss_kb"] < 200 * 1024
verdicts.append(ok)
print(f"{'peak RSS':<28} {py['rss_kb'] / 1024:>14.0f} MB {rs['rss_kb'] / 1024:>10.0f} MB {py['rss_kb'] / rs['rss_kb']:>7.1f}×  <200 MB  {'PASS' if ok else 'FAIL'}")
if peers:
    t = med["tough"]
    print()
    print(f"reference (not a goal): tough 0.19.0 doing python_verify.py's work: {t['wall']:.2f} s wall, "
          f"{t['rss_kb'] / 1024:.0f} MB; tuf-ceremony is {t['wall'] / rs['wall']:.1f}× faster; "
          f"the goal asks for ≤ {py['wall'] / 20:.3f} s")
print()
print("all goals met" if all(verdicts) else "goals NOT all met")
EOF
