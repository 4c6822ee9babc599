"""Prints, for each public key file named on the command line (PEM or DER
SubjectPublicKeyInfo), the key securesystemslib makes of it, as one JSON object per line:
{"file", "keyid", "keytype", "scheme", "public"}. securesystemslib 1.6 builds the key with
SSlibKey.from_crypto (what its from_pem helpers do): keytype "ecdsa", scheme by curve,
keyval.public the PEM SubjectPublicKeyInfo; the keyid is its own computation."""
import json, sys
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key
from securesystemslib.signer import SSlibKey

for path in sys.argv[1:]:
    data = open(path, "rb").read()
    pub = load_pem_public_key(data) if data.lstrip().startswith(b"-----BEGIN") else load_der_public_key(data)
    key = SSlibKey.from_crypto(pub)
    print(json.dumps({"file": path, "keyid": key.keyid, "keytype": key.keytype, "scheme": key.scheme, "public": key.keyval["public"]}))
