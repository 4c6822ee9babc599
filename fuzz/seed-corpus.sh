#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/<target>, gitignored). Run from anywhere.
#
#   fuzz/seed-corpus.sh                    # all targets
#   fuzz/seed-corpus.sh plan_parse         # only the named ones
#
# parse_canonicalize_verify: the valid metadata in fixtures/ (python-tuf vectors, Sigstore
#   root chain); a plain copy, no build needed.
# plan_parse: the three templates (src/ceremony/templates.rs, rendered for 1, 2, 3 and 5
#   keyholders) and hand-written plans, written by the target itself
#   (TUF_CEREMONY_FUZZ_SEEDS), plus the test plan BASE of tests/plan_inputs.rs and a few of
#   its bad variants.
# signing_apart_files: each request kind's real request.json (made by create_request) and
#   a valid signature file, with their selector byte, written by the target itself.
# The last two build their target first (cargo fuzz run builds it; the first build takes
# several minutes) and run it on one empty input to write the seeds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_canonicalize_verify plan_parse signing_apart_files)

# Runs target $1 once on an empty input with TUF_CEREMONY_FUZZ_SEEDS=$2.
seed_with_target() {
    local empty
    empty="$(mktemp)"
    (cd "$repo" && TUF_CEREMONY_FUZZ_SEEDS="$2" RUSTC_BOOTSTRAP=1 nice -n 10 cargo fuzz run "$1" "$empty" >/dev/null 2>"$empty.log") \
        || { cat "$empty.log" >&2; rm -f "$empty" "$empty.log"; exit 1; }
    rm -f "$empty" "$empty.log"
}

for t in "${targets[@]}"; do
    out="$here/corpus/$t"
    mkdir -p "$out"
    case "$t" in
    parse_canonicalize_verify)
        for f in "$repo"/fixtures/tuf-vectors/*.json; do cp "$f" "$out/vec-$(basename "$f")"; done
        # Real published data, read where it lies (never copied into the project).
        for f in "$repo"/../shared/fixtures/real/sigstore-root-chain/*.json; do [ -f "$f" ] && cp "$f" "$out/sigstore-$(basename "$f")"; done
        ;;
    plan_parse)
        seed_with_target plan_parse "$out"
        # tests/plan_inputs.rs: the BASE plan (a raw string), valid against the target's
        # base folder (online/snapshot.pub, timestamp.pub, unclaimed.pub, targets.json) ...
        base="$out/test-plan_inputs-base.toml"
        awk '/^const BASE: &str = r#"$/ {on=1; next} on && /^"#;$/ {exit} on {print}' "$repo/tests/plan_inputs.rs" > "$base"
        [ -s "$base" ] || { echo "no BASE plan found in tests/plan_inputs.rs" >&2; exit 1; }
        # ... and a few of the test's bad variants (each refused naming a field).
        sed 's/^threshold = 2$/threshold = 7/' "$base" > "$out/test-threshold-above-keys.toml"
        sed 's|online/snapshot.pub|online/garbage.pub|' "$base" > "$out/test-garbage-key.toml"
        sed 's|^\[ceremony\]$|[previous_root]\nfile = "1.root.json"\n\n[ceremony]|' "$base" > "$out/test-previous-root.toml"
        sed 's|^\[ceremony\]$|[previous_root]\nfile = "targets.json"\n\n[ceremony]|' "$base" > "$out/test-previous-not-root.toml"
        sed 's/^expires_days = 180$/expires_days = 180\nbins = 16\nbins_online_key = "online\/bin-n.pub"/' "$base" > "$out/test-bins.toml"
        ;;
    signing_apart_files)
        seed_with_target signing_apart_files "$out"
        ;;
    *)
        echo "unknown target $t" >&2
        exit 2
        ;;
    esac
    echo "seeded $(ls "$out" | wc -l) files in $out"
done
