"""Loads unsigned root and targets drafts with python-tuf (Metadata.from_file, which
parses and checks every field) and prints what python-tuf reads in them as JSON: per top-level
role the keyids and threshold, per key the keyid securesystemslib computes from the key object
(sha256 of its canonical JSON), and the targets role's version and signatures.
Usage: check_drafts.py ROOT.json TARGETS.json"""
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
from tuf.api.metadata import Metadata, Root, Targets

root = Metadata[Root].from_file(sys.argv[1])
targets = Metadata[Targets].from_file(sys.argv[2])
out = {
    "root": {
        "version": root.signed.version,
        "signatures": len(root.signatures),
        "roles": {n: {"keyids": sorted(r.keyids), "threshold": r.threshold} for n, r in root.signed.roles.items()},
        "keys": {k: hashlib.sha256(encode_canonical(v.to_dict()).encode()).hexdigest() for k, v in root.signed.keys.items()},
        "schemes": {k: v.scheme for k, v in root.signed.keys.items()},
    },
    "targets": {"version": targets.signed.version, "signatures": len(targets.signatures), "targets": len(targets.signed.targets)},
}
print(json.dumps(out))
