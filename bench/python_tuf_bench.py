#!/usr/bin/env python3
"""python-tuf 7.0.1 side of bench/core.sh: the same operations on the same files as
`examples/bench_core.rs`, printing the same `name value` lines.

    python_tuf_bench.py load-verify DIR FILE ROLE
    python_tuf_bench.py sign-write DIR FILE [OUT]

load-verify: read FILE, `Metadata.from_bytes`, then `targets.verify_delegate(ROLE, md)`
with DIR/targets.json as the delegator (loaded before timing starts, as on the Rust side).
sign-write: load FILE (untimed), bump the version, `md.sign(signer)` with a
securesystemslib CryptoSigner made from the role's ed25519 seed in DIR/keys.json (the
signing key is the role named by the file, e.g. claimed.json -> claimed), then
`md.to_bytes(JSONSerializer(compact=False))` written to OUT (default
DIR/<role>.python-out.json).
"""

import json
import os
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata
from tuf.api.serialization.json import JSONSerializer


def resolve(d, f):
    return f if os.path.exists(f) else os.path.join(d, f)


def out(name, value):
    print(f"{name} {value:.6f}" if isinstance(value, float) else f"{name} {value}")


def load_verify(d, f, role):
    with open(os.path.join(d, "targets.json"), "rb") as fh:
        targets = Metadata.from_bytes(fh.read())

    t0, c0 = time.perf_counter(), time.thread_time()
    with open(resolve(d, f), "rb") as fh:
        data = fh.read()
    read_s = time.perf_counter() - t0
    t = time.perf_counter()
    md = Metadata.from_bytes(data)
    parse_s = time.perf_counter() - t
    file_len = len(data)
    del data
    t = time.perf_counter()
    targets.verify_delegate(role, md)  # raises unless the threshold is met
    verify_s = time.perf_counter() - t
    total, total_cpu = time.perf_counter() - t0, time.thread_time() - c0

    out("file_bytes", file_len)
    out("read_s", read_s)
    out("parse_s", parse_s)
    out("verify_s", verify_s)  # canonical encoding + signature check
    out("load_s", read_s + parse_s)
    out("check_s", verify_s)
    out("load_verify_s", total)
    out("load_verify_cpu_s", total_cpu)


def sign_write(d, f, dest):
    path = resolve(d, f)
    role = os.path.splitext(os.path.basename(path))[0]
    with open(os.path.join(d, "keys.json")) as fh:
        seed = bytes.fromhex(json.load(fh)[role])
    signer = CryptoSigner(Ed25519PrivateKey.from_private_bytes(seed))
    dest = dest or os.path.join(d, f"{role}.python-out.json")

    t = time.perf_counter()
    with open(path, "rb") as fh:
        md = Metadata.from_bytes(fh.read())
    load_s = time.perf_counter() - t

    t0, c0 = time.perf_counter(), time.thread_time()
    md.signed.version += 1
    md.sign(signer)  # canonical encoding + ed25519 signature; replaces old signatures
    sign_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    data = md.to_bytes(JSONSerializer(compact=False))
    encode_s = time.perf_counter() - t1
    t = time.perf_counter()
    with open(dest, "wb") as fh:
        fh.write(data)
    file_write_s = time.perf_counter() - t
    write_s = time.perf_counter() - t1
    total_cpu = time.thread_time() - c0

    out("out_bytes", len(data))
    out("load_s", load_s)
    out("sign_s", sign_s)
    out("encode_s", encode_s)
    out("file_write_s", file_write_s)
    out("write_s", write_s)
    out("sign_write_s", sign_s + write_s)
    out("sign_write_cpu_s", total_cpu)


def main(argv):
    if len(argv) == 4 and argv[0] == "load-verify":
        load_verify(*argv[1:])
    elif len(argv) in (3, 4) and argv[0] == "sign-write":
        sign_write(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
