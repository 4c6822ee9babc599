#!/usr/bin/env python3
"""python-tuf 7.0.1 side of bench/verify.sh: "verify the folder".

    python_verify.py make-root DIR     # write DIR/1.root.json (benchmark keys only)
    python_verify.py verify DIR        # load every metadata file, verify each by its delegator

make-root: a root whose targets key is the `targets` seed of DIR/keys.json (written by
`examples/bench_core.rs gen`), so the targets.json the generator signed verifies against
it; root, snapshot and timestamp use fixed benchmark seeds. Expires 2030-01-01.

verify: what python-tuf offers an auditor of a metadata folder: read and
`Metadata.from_bytes` every `*.json` file that is TUF metadata (root first), check root
against itself (`Metadata.verify_delegate("root", root)`), targets against root, then walk the
delegations from targets and check every delegated role that is present in the folder
against its delegator (`delegator.verify_delegate(name, md)`), recursively. A failed check
raises (exit 1). Prints `name value` lines like bench/python_tuf_bench.py.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, Root
from tuf.api.serialization.json import JSONSerializer

BENCH_SEEDS = {"root": "55" * 32, "snapshot": "66" * 32, "timestamp": "77" * 32}


def signer(seed_hex):
    return CryptoSigner(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex)))


def make_root(d):
    with open(os.path.join(d, "keys.json")) as fh:
        seeds = json.load(fh)
    seeds = dict(BENCH_SEEDS, targets=seeds["targets"])
    root = Root(version=1, expires=datetime(2030, 1, 1, tzinfo=timezone.utc), consistent_snapshot=True)
    signers = {}
    for role, seed in seeds.items():
        s = signer(seed)
        signers[role] = s
        root.add_key(s.public_key, role)
    md = Metadata(root)
    md.sign(signers["root"])
    with open(os.path.join(d, "1.root.json"), "wb") as fh:
        fh.write(md.to_bytes(JSONSerializer(compact=False)))


def role_of(name):
    """Role name of a metadata file name: 1.root.json, root.json, 3.claimed.json, bins.json."""
    stem = name[: -len(".json")]
    head, _, rest = stem.partition(".")
    return rest if head.isdigit() and rest else stem


def verify(d):
    t0, c0 = time.perf_counter(), time.thread_time()
    loaded = {}
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json") or name == "keys.json" or name.endswith("-out.json"):
            continue
        with open(os.path.join(d, name), "rb") as fh:
            loaded[role_of(name)] = Metadata.from_bytes(fh.read())
    load_s = time.perf_counter() - t0

    t = time.perf_counter()
    root = loaded["root"]
    root.verify_delegate("root", root)
    root.verify_delegate("targets", loaded["targets"])
    checked = 2
    queue = ["targets"]
    while queue:
        parent = loaded[queue.pop()]
        for role in parent.signed.delegations.roles.values() if parent.signed.delegations and parent.signed.delegations.roles else []:
            if role.name in loaded:
                parent.verify_delegate(role.name, loaded[role.name])
                checked += 1
                queue.append(role.name)
    verify_s = time.perf_counter() - t

    print(f"files {len(loaded)}")
    print(f"roles_verified {checked}")
    print(f"load_s {load_s:.6f}")
    print(f"verify_s {verify_s:.6f}")
    print(f"total_s {time.perf_counter() - t0:.6f}")
    print(f"total_cpu_s {time.thread_time() - c0:.6f}")


def main(argv):
    if len(argv) == 2 and argv[0] == "make-root":
        make_root(argv[1])
    elif len(argv) == 2 and argv[0] == "verify":
        verify(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
