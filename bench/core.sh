#!/usr/bin/env bash
# Side-by-side benchmark of the TUF core against python-tuf 7.0.1 on the same files
# (the issue's PEP 458/480 sizes). See bench/README.md.
#
#   bench/core.sh              # REPS=5 repetitions, median
#   REPS=9 bench/core.sh       # more repetitions
#   BENCH_REGEN=1 bench/core.sh  # regenerate the data set
#
# Environment: REPS (default 5), BENCH_DATA (default bench/data, not committed),
# PYTHON (default .venv/bin/python), PROJECTS (default 100000; only for generation),
# PEERS (default 1; 0 skips the two reference rows below).
#
# Besides python-tuf, two reference rows for load + verify (not goals): tough 0.19.0, the
# Rust TUF client (interop/tough-check's tough-bench: serde parse + `verify_role`), and a
# floor: serde_json reading the same file into plain derived structs with no check at all.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-5}
DATA=${BENCH_DATA:-bench/data}
PY=${PYTHON:-.venv/bin/python}
PROJECTS=${PROJECTS:-100000}
PEERS=${PEERS:-1}
BIN=target/release/examples/bench_core
PEER_BIN=target/release/tough-bench

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
  echo "bench/core.sh: GNU time is needed for peak RSS: apt-get install time" >&2
  exit 1
fi
if [ ! -x "$PY" ] || ! "$PY" -c 'import tuf, securesystemslib' 2>/dev/null; then
  echo "== creating .venv with pinned python-tuf"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r tests/python/requirements.txt
  PY=.venv/bin/python
fi
"$PY" -c 'import tuf, sys; sys.exit(0 if tuf.__version__ == "7.0.1" else "python-tuf " + tuf.__version__ + " is not 7.0.1")'

RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT

echo "== building examples/bench_core (release)"
# Examples build with the dev-dependencies, and yubihsm's MockHsm (a test-only dev-dependency
# feature) refuses to compile without debug assertions: this flag gives that one crate debug
# assertions in example builds only (the measured code never calls that crate).
if ! cargo build --release --example bench_core --config profile.release.package.yubihsm.debug-assertions=true >"$RESULTS/build.log" 2>&1; then
  cat "$RESULTS/build.log" >&2
  echo "bench/core.sh: build failed" >&2
  exit 1
fi
if [ "$PEERS" != 0 ]; then
  echo "== building interop/tough-check's tough-bench (release)"
  if ! cargo build --release -p tough-check --bin tough-bench >"$RESULTS/build.log" 2>&1; then
    cat "$RESULTS/build.log" >&2
    echo "bench/core.sh: build failed" >&2
    exit 1
  fi
fi

if [ -n "${BENCH_REGEN:-}" ] || [ ! -s "$DATA/claimed.json" ] || [ ! -s "$DATA/bins.json" ] || [ ! -s "$DATA/keys.json" ]; then
  echo "== generating $DATA ($PROJECTS projects, 16384 bins)"
  mkdir -p "$DATA"
  "$BIN" gen "$DATA" "$PROJECTS" >/dev/null
fi

# run SIDE OP REP CMD...: one measurement; its metrics plus maxrss_kb go to a file.
run() {
  local side=$1 op=$2 rep=$3
  shift 3
  local out="$RESULTS/$side.$op.$rep"
  /usr/bin/time -f "maxrss_kb %M" -o "$out.time" "$@" >"$out" || {
    echo "bench/core.sh: $side $op failed: $*" >&2
    exit 1
  }
  cat "$out.time" >>"$out"
}

echo "== running $REPS repetitions of each side (alternating; median reported)"
for rep in $(seq 1 "$REPS"); do
  printf '   repetition %s/%s\r' "$rep" "$REPS"
  run python load-verify "$rep" "$PY" bench/python_tuf_bench.py load-verify "$DATA" claimed.json claimed
  run rust load-verify "$rep" "$BIN" load-verify "$DATA" claimed.json claimed
  run python sign-write "$rep" "$PY" bench/python_tuf_bench.py sign-write "$DATA" claimed.json
  run rust sign-write "$rep" "$BIN" sign-write "$DATA" claimed.json
  run python bins "$rep" "$PY" bench/python_tuf_bench.py load-verify "$DATA" bins.json bins
  run rust bins "$rep" "$BIN" load-verify "$DATA" bins.json bins
  if [ "$PEERS" != 0 ]; then
    run tough load-verify "$rep" "$PEER_BIN" load-verify "$DATA" claimed.json claimed
    run floor load "$rep" "$PEER_BIN" serde-floor "$DATA/claimed.json"
  fi
done
echo

# The same key, the same version bump and deterministic ed25519: the files must be equal.
if cmp -s "$DATA/claimed.python-out.json" "$DATA/claimed.rust-out.json"; then
  IDENTICAL=yes
else
  IDENTICAL=NO
fi

python3 - "$RESULTS" "$REPS" "$DATA/claimed.json" "$IDENTICAL" "$(cut -d' ' -f1-3 /proc/loadavg)" "$PEERS" <<'EOF'
import os, statistics, sys

results, reps, claimed, identical, load, peers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6] != "0"

def metrics(side, op):
    runs = []  # python lines lack some Rust-only metrics; keep the keys both have
    for rep in range(1, reps + 1):
        with open(os.path.join(results, f"{side}.{op}.{rep}")) as fh:
            runs.append({k: float(v) for k, v in (line.split() for line in fh if line.strip())})
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if all(k in r for r in runs)}

m = {(s, o): metrics(s, o) for s in ("python", "rust") for o in ("load-verify", "sign-write", "bins")}
size = os.path.getsize(claimed)
mb = lambda kb: f"{kb / 1024:.0f} MB"

rows = []  # (operation, python s, ours s, goal ratio or None)
for label, op, key, goal in [
    # Ours parses and checks the signature in one pass (tuf::stream), so load and verify
    # are not timed apart.
    ("load + verify", "load-verify", "load_verify_s", 20),
    ("sign (bump version, canonical, sign)", "sign-write", "sign_s", None),
    ("write (checked writer + file)", "sign-write", "write_s", None),
    ("sign + write", "sign-write", "sign_write_s", 20),
    ("sign + write, CPU time", "sign-write", "sign_write_cpu_s", None),
    ("bins.json load + verify", "bins", "load_verify_s", None),
]:
    rows.append((label, m["python", op][key], m["rust", op][key], goal))

print(f"claimed.json: {size} bytes ({size / 1e6:.1f} MB), {int(m['rust', 'load-verify']['delegations']):,} delegations; "
      f"bins.json: {int(m['rust', 'bins']['file_bytes'])} bytes, {int(m['rust', 'bins']['delegations']):,} bins; "
      f"median of {reps} runs; load average {load}")
print(f"sign-write outputs byte-identical (python-tuf vs tuf-ceremony): {identical}")
print()
hdr = f"{'operation':<38} {'python-tuf':>11} {'tuf-ceremony':>13} {'ratio':>8}  goal"
print(hdr)
print("-" * len(hdr))
verdicts = []
for label, py, rs, goal in rows:
    ratio = py / rs if rs > 0 else float("inf")
    verdict = ""
    if goal:
        ok = ratio >= goal
        verdict = f"≥{goal}×  {'PASS' if ok else 'FAIL'}"
        verdicts.append(ok)
    print(f"{label:<38} {py:>10.3f}s {rs:>12.3f}s {ratio:>7.1f}×  {verdict}")
print()
hdr = f"{'peak RSS':<38} {'python-tuf':>11} {'tuf-ceremony':>13} {'÷ file':>8}  goal"
print(hdr)
print("-" * len(hdr))
for label, op in [("load + verify claimed.json", "load-verify"), ("sign + write claimed.json", "sign-write")]:
    py, rs = m["python", op]["maxrss_kb"], m["rust", op]["maxrss_kb"]
    factor = rs * 1024 / size
    ok = factor <= 3
    verdicts.append(ok)
    print(f"{label:<38} {mb(py):>11} {mb(rs):>13} {factor:>7.2f}×  ≤3× file  {'PASS' if ok else 'FAIL'}")
if peers:
    ours = m["rust", "load-verify"]["load_verify_s"]
    goal = m["python", "load-verify"]["load_verify_s"] / 20
    tough, floor = metrics("tough", "load-verify"), metrics("floor", "load")
    print()
    hdr = f"{'load claimed.json: references (not goals)':<58} {'time':>8} {'÷ ours':>7} {'RSS':>8}"
    print(hdr)
    print("-" * len(hdr))
    for label, t, rss in [
        ("tough 0.19.0: parse (keyids checked) + verify_role", tough["load_verify_s"], tough["maxrss_kb"]),
        ("serde_json into plain structs: read + parse, no checks", floor["load_s"], floor["maxrss_kb"]),
        ("tuf-ceremony: read + strict parse + signature check", ours, m["rust", "load-verify"]["maxrss_kb"]),
        ("the goal: python-tuf's load + verify / 20", goal, None),
    ]:
        print(f"{label:<58} {t:>7.3f}s {t / ours:>6.2f}× {mb(rss) if rss else '':>8}")
print()
print("all goals met" if all(verdicts) else "goals NOT all met")
EOF
