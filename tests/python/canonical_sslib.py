"""Reads JSON documents, one per line, and prints the hex of securesystemslib's
encode_canonical of each (the reference our canonical encoder must equal byte for byte)."""
import json, sys
from securesystemslib.formats import encode_canonical

for line in sys.stdin:
    line = line.rstrip("\n")
    if not line:
        continue
    value = json.loads(line)
    print(encode_canonical(value).encode("utf-8").hex())
