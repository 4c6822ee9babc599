"""Offline python-tuf verdict on a real TUF metadata folder at a given time.

Usage:
    real_verdict.py METADATA_DIR TRUSTED_ROOT_FILE AT_RFC3339 [--roots-only]

An independent oracle for tuf-ceremony's ``verify``: it runs python-tuf 7.0.1's own client
state machine, ``tuf.ngclient._internal.trusted_metadata_set.TrustedMetadataSet``, over the
files of METADATA_DIR, as ``tuf.ngclient.Updater.refresh()`` and a lookup of every target
would drive it, without network:

* Reference time: ``TrustedMetadataSet.__init__`` sets the public attribute
  ``reference_time = datetime.now(timezone.utc)`` and uses it nowhere else (loading the
  trusted root never checks expiry). The script overwrites that attribute with AT right
  after construction; every later expiry check (final root in ``update_timestamp``,
  timestamp, snapshot, targets, delegated roles) reads it. No ``datetime`` patching.
* File names: URLs are built by python-tuf itself, ``Updater._download_metadata`` (role
  names quoted with ``urllib.parse.quote(name, "")``, ``<version>.<role>.json`` when the
  final root has consistent_snapshot), fetched through python-tuf's
  ``FetcherInterface.download_bytes`` (so its length limits apply) from a local fetcher.
  The fetcher serves, for a URL file name ``F``: ``F``; else ``root_history/F`` for
  ``N.root.json`` (tuf-on-ci keeps roots there); else ``unquote(F)`` when that contains no
  ``/`` (a web server that stores files URL-decoded). When the versioned name of snapshot
  or a targets role is absent, the unversioned ``<role>.json`` is used (tuf-on-ci's checkout
  keeps unversioned files; it is also the Updater's local-cache name) and a note says so.
* Root chain: as ``Updater._load_root``: ``update_root`` with N+1, N+2, ... until a file is
  absent (at most ``max_root_rotations``). A root that fails stops the chain (the Updater
  raises); the rest is checked against the last trusted root.
* Then timestamp, snapshot, targets and every delegated role reachable from targets,
  breadth-first, each role name once (Updater skips visited names).
* Each exception from the trusted set is recorded per role (``Type: message``) and the walk
  goes on. When the trusted set refuses a role (so a later role cannot be loaded through
  it), signature counts are still computed from the parsed file against the parsed
  delegator ("delegator_trusted": false) so every role gets valid/threshold.
* Signature counts come from python-tuf's ``Root.get_root_verification_result`` (new root:
  previous root and itself) and ``get_verification_result`` of the delegator.
* Keyless ``sigstore-oidc``/``Fulcio`` keys: securesystemslib 1.6.0 does not register them
  by default (``Key.from_dict`` raises ``ValueError: Unsupported public key``, so python-tuf
  cannot even deserialize such metadata); its ``SigstoreKey.verify_signature`` needs
  sigstore-python and ``Verifier.production()`` (network: Sigstore's TUF trust root, Rekor).
  The script opts in with a subclass of ``SigstoreKey`` whose verification raises
  ``VerificationError("cannot be checked offline")`` (python-tuf counts it as not signed),
  lists each such signature in "undecidable", and re-runs the walk treating them as valid to
  report "verdict_if_undecidable_valid". The default-registry outcome is in "notes".

Prints one JSON object; exit 0 when a verdict was reached, 2 when the inputs cannot be read.
With --roots-only (a folder of N.root.json only, e.g. a root history), the walk stops after
the root chain and the final-root expiry check of update_timestamp.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import sys
import types
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any
from urllib import parse

try:
    import securesystemslib
    import tuf
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import KEY_FOR_TYPE_AND_SCHEME, SigstoreKey
    from tuf.api import exceptions as tuf_exc
    from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
    from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig
    from tuf.ngclient._internal.trusted_metadata_set import TrustedMetadataSet
    from tuf.ngclient.config import EnvelopeType
except ImportError as exc:  # pragma: no cover
    print(f"real_verdict.py: python-tuf / securesystemslib not importable: {exc}", file=sys.stderr)
    sys.exit(2)

BASE_URL = "https://repo.invalid/metadata/"
ROOT_NAME = re.compile(r"^[1-9][0-9]*\.root\.json$")
SIGSTORE_TYPE = ("sigstore-oidc", "Fulcio")
OFFLINE_MSG = "sigstore-oidc signature cannot be checked offline"

# Second pass switch: treat undecidable (keyless) signatures as valid.
ACCEPT_UNDECIDABLE = False


class OfflineSigstoreKey(SigstoreKey):
    """securesystemslib's SigstoreKey (same parsing, same keyval checks), never online."""

    def verify_signature(self, signature, data):  # type: ignore[no-untyped-def]
        if ACCEPT_UNDECIDABLE:
            return None
        raise VerificationError(OFFLINE_MSG)


class DirFetcher(FetcherInterface):
    """Serves METADATA_DIR for URLs under BASE_URL; 404 for anything else."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.served: dict[str, str] = {}  # url file name -> relative path served

    def _candidates(self, name: str) -> list[str]:
        cands = [name]
        if ROOT_NAME.match(name):
            cands.append(f"root_history/{name}")
        decoded = parse.unquote(name)
        if decoded != name and "/" not in decoded and decoded not in (".", ".."):
            cands.append(decoded)
        return cands

    def _fetch(self, url: str) -> Iterator[bytes]:
        if not url.startswith(BASE_URL):
            raise tuf_exc.DownloadHTTPError(f"not under {BASE_URL}: {url}", 404)
        name = url[len(BASE_URL):]
        if "/" in name or name in ("", ".", ".."):
            raise tuf_exc.DownloadHTTPError(f"{name}: not found", 404)
        for rel in self._candidates(name):
            path = os.path.join(self.directory, rel)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    data = f.read()
                self.served[name] = rel
                return iter([data])
        raise tuf_exc.DownloadHTTPError(f"{name}: not found", 404)


def err(e: BaseException) -> str:
    """``Type: message``, with the cause python-tuf wrapped (e.g. DeserializationError)."""
    msg = str(e)
    cause = e.__cause__
    if cause is not None and str(cause) not in msg:
        msg = f"{msg} ({type(cause).__name__}: {cause})" if msg else f"({type(cause).__name__}: {cause})"
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def iso(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_at(text: str) -> datetime.datetime:
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(t)
    if dt.tzinfo is None:
        raise ValueError("time must carry a UTC offset (e.g. ...Z)")
    return dt.astimezone(datetime.timezone.utc)


class Audit:
    def __init__(self, mdir: str, root_data: bytes, at: datetime.datetime, roots_only: bool):
        self.mdir = mdir
        self.root_data = root_data
        self.at = at
        self.roots_only = roots_only
        self.config = UpdaterConfig()
        self.fetcher = DirFetcher(mdir)
        # Only the two attributes Updater._download_metadata reads.
        self.url_builder = types.SimpleNamespace(
            _metadata_base_url=BASE_URL, _fetcher=self.fetcher
        )
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.undecidable: list[dict[str, Any]] = []
        self.roots: list[dict[str, Any]] = []
        self.roles: dict[str, dict[str, Any]] = {}
        self.parsed: dict[str, Metadata] = {}  # role -> parsed (trusted or not)
        self.ts: TrustedMetadataSet | None = None

    # -- helpers -------------------------------------------------------------------------
    def download(self, role: str, length: int, version: int | None) -> tuple[bytes, str, str]:
        """Fetch with python-tuf's own URL building; returns (data, url name, file)."""
        data = Updater._download_metadata(self.url_builder, role, length, version)  # type: ignore[arg-type]
        # python-tuf built the URL; recover the file name it asked for
        enc = parse.quote(role, "")
        name = f"{version}.{enc}.json" if version is not None else f"{enc}.json"
        return data, name, self.fetcher.served.get(name, name)

    def fetch_role(self, role: str, length: int, version: int | None, rec: dict[str, Any]) -> bytes | None:
        try:
            data, name, served = self.download(role, length, version)
        except tuf_exc.DownloadHTTPError as e:
            if version is None or e.status_code != 404:
                raise
            unversioned = f"{parse.quote(role, '')}.json"
            try:
                data, name, served = self.download(role, length, None)
            except tuf_exc.DownloadHTTPError as e2:
                raise tuf_exc.DownloadHTTPError(
                    f"neither {version}.{unversioned} nor {unversioned} found ({e}; {e2})",
                    e2.status_code,
                ) from e2
            self.notes.append(
                f"{role}: {version}.{parse.quote(role, '')}.json absent, used {unversioned}"
                " (unversioned name: tuf-on-ci checkout / Updater local-cache name)"
            )
        rec["url"] = name
        rec["file"] = served
        if served != name:
            self.notes.append(f"{role}: URL file name {name!r} served from {served!r}")
        return data

    def count(self, delegator: Any, role: str, md: Metadata, rec: dict[str, Any]) -> None:
        """valid/threshold from python-tuf's get_verification_result of the delegator."""
        try:
            res = delegator.get_verification_result(role, md.signed_bytes, md.signatures)
        except Exception as e:  # noqa: BLE001
            rec["valid"] = None
            rec["threshold"] = None
            rec["count_error"] = err(e)
            return
        rec["valid"] = len(res.signed)
        rec["threshold"] = res.threshold
        rec["valid_keyids"] = sorted(res.signed)
        self.note_undecidable(delegator, role, md, rec)

    def note_undecidable(self, delegator: Any, role: str, md: Metadata, rec: dict[str, Any],
                         label: str | None = None) -> None:
        try:
            keyids = delegator.get_delegated_role(role).keyids
        except Exception:  # noqa: BLE001
            return
        for keyid in keyids:
            try:
                key = delegator.get_key(keyid)
            except ValueError:
                continue
            if isinstance(key, SigstoreKey) and keyid in md.signatures:
                entry = {
                    "role": label or role,
                    "keyid": keyid,
                    "keytype": key.keytype,
                    "scheme": key.scheme,
                    "identity": key.keyval.get("identity"),
                    "issuer": key.keyval.get("issuer"),
                    "reason": "cannot be checked offline (keyless Fulcio certificate + Rekor "
                    "entry; securesystemslib verifies it with sigstore-python "
                    "Verifier.production(), which needs the network)",
                }
                entry.update(offline_bundle_facts(key, md.signatures[keyid], md.signed_bytes))
                if entry not in self.undecidable:
                    self.undecidable.append(entry)
                rec.setdefault("undecidable_keyids", []).append(keyid)

    def fail(self, where: str, e: BaseException, rec: dict[str, Any] | None = None) -> None:
        msg = err(e)
        if rec is not None:
            rec["error"] = msg
        self.errors.append(f"{where}: {msg}")

    # -- root chain ----------------------------------------------------------------------
    def run_roots(self) -> bool:
        rec: dict[str, Any] = {"file": "(trusted root argument)", "trusted_anchor": True}
        self.roots.append(rec)
        try:
            md = Metadata[Root].from_bytes(self.root_data)
            rec["version"] = md.signed.version
            rec["expires"] = iso(md.signed.expires)
            res = md.signed.get_root_verification_result(None, md.signed_bytes, md.signatures)
            rec["valid"] = len(res.second.signed)
            rec["threshold"] = res.second.threshold
            rec["valid_keyids"] = sorted(res.second.signed)
            rec["valid_by_previous"] = None
            rec["threshold_previous"] = None
            self.note_undecidable(md.signed, Root.type, md, rec, f"root v{md.signed.version}")
        except Exception as e:  # noqa: BLE001
            rec["valid"] = None
            rec["threshold"] = None
            self.fail("trusted root", e, rec)
            return False
        try:
            self.ts = TrustedMetadataSet(self.root_data, EnvelopeType.METADATA)
            # the documented attribute; nothing read it during construction
            self.ts.reference_time = self.at
            rec["loaded"] = True
            rec["error"] = None
        except Exception as e:  # noqa: BLE001
            rec["loaded"] = False
            self.fail("trusted root", e, rec)
            return False

        prev = self.ts.root
        lower = prev.version + 1
        for n in range(lower, lower + self.config.max_root_rotations):
            rec = {"version": n}
            try:
                data, name, served = self.download(Root.type, self.config.root_max_length, n)
            except tuf_exc.DownloadHTTPError as e:
                if e.status_code in (403, 404):
                    break  # current root is the newest available
                self.roots.append(rec)
                self.fail(f"root v{n}", e, rec)
                break
            except Exception as e:  # noqa: BLE001
                self.roots.append(rec)
                self.fail(f"root v{n}", e, rec)
                break
            rec["file"] = served
            both = [os.path.join(self.mdir, p) for p in (name, f"root_history/{name}")]
            if all(os.path.isfile(p) for p in both):
                with open(both[0], "rb") as a, open(both[1], "rb") as b:
                    if a.read() != b.read():
                        self.notes.append(f"{name} and root_history/{name} differ; used {name}")
            self.roots.append(rec)
            try:
                md = Metadata[Root].from_bytes(data)
                rec["version"] = md.signed.version
                rec["expires"] = iso(md.signed.expires)
                try:
                    res = md.signed.get_root_verification_result(
                        self.ts.root, md.signed_bytes, md.signatures
                    )
                    rec["valid"] = len(res.second.signed)
                    rec["threshold"] = res.second.threshold
                    rec["valid_keyids"] = sorted(res.second.signed)
                    rec["valid_by_previous"] = len(res.first.signed)
                    rec["threshold_previous"] = res.first.threshold
                    rec["valid_keyids_by_previous"] = sorted(res.first.signed)
                except Exception as e:  # noqa: BLE001
                    rec["count_error"] = err(e)
                self.note_undecidable(self.ts.root, Root.type, md, rec, f"root v{n} (by v{n-1})")
                self.note_undecidable(md.signed, Root.type, md, rec, f"root v{n}")
            except Exception as e:  # noqa: BLE001
                rec.setdefault("count_error", err(e))
            try:
                self.ts.update_root(data)
                rec["loaded"] = True
                rec["error"] = None
            except Exception as e:  # noqa: BLE001
                rec["loaded"] = False
                self.fail(f"root v{n}", e, rec)
                self.notes.append(
                    f"root chain stopped at v{self.ts.root.version}: the Updater would raise "
                    f"here; later roles are checked against root v{self.ts.root.version}"
                )
                break
        return True

    # -- top-level and delegated roles --------------------------------------------------
    def new_rec(self, role: str, delegator: str) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "delegator": delegator,
            "version": None,
            "valid": None,
            "threshold": None,
            "loaded": False,
            "error": None,
        }
        self.roles[role] = rec
        return rec

    def parse_into(self, role: str, data: bytes, rec: dict[str, Any]) -> Metadata | None:
        try:
            md = Metadata.from_bytes(data)
        except Exception as e:  # noqa: BLE001
            rec["parse_error"] = err(e)
            return None
        self.parsed[role] = md
        rec["version"] = md.signed.version
        rec["expires"] = iso(md.signed.expires)
        rec["expired"] = md.signed.is_expired(self.at)
        return md

    def run_top(self) -> None:
        assert self.ts is not None
        root = self.ts.root
        final = {"version": root.version, "expires": iso(root.expires),
                 "expired": root.is_expired(self.at),
                 "consistent_snapshot": bool(root.consistent_snapshot)}
        self.final_root = final
        if self.roots_only:
            if root.is_expired(self.at):
                # the check update_timestamp() makes before reading any timestamp
                self.fail("final root", tuf_exc.ExpiredMetadataError("Final root.json is expired"))
            return

        # timestamp
        rec = self.new_rec(Timestamp.type, Root.type)
        ts_md = None
        try:
            data = self.fetch_role(Timestamp.type, self.config.timestamp_max_length, None, rec)
            ts_md = self.parse_into(Timestamp.type, data, rec)
            if ts_md is not None:
                self.count(root, Timestamp.type, ts_md, rec)
            self.ts.update_timestamp(data)
        except Exception as e:  # noqa: BLE001
            self.fail(Timestamp.type, e, rec)
        rec["loaded"] = Timestamp.type in self.ts

        # snapshot
        rec = self.new_rec(Snapshot.type, Root.type)
        snap_md = None
        try:
            tsig = self.ts.get(Timestamp.type) or (ts_md.signed if ts_md else None)
            if tsig is None:
                raise RuntimeError("no timestamp to name the snapshot version")
            meta = tsig.snapshot_meta
            version = meta.version if root.consistent_snapshot else None
            length = meta.length or self.config.snapshot_max_length
            data = self.fetch_role(Snapshot.type, length, version, rec)
            snap_md = self.parse_into(Snapshot.type, data, rec)
            if snap_md is not None:
                self.count(root, Snapshot.type, snap_md, rec)
            # remote data: hashes/length checked against timestamp (trusted=False)
            self.ts.update_snapshot(data)
        except Exception as e:  # noqa: BLE001
            self.fail(Snapshot.type, e, rec)
        rec["loaded"] = Snapshot.type in self.ts

        # targets and delegated roles, breadth-first
        self.walk_targets()

    def walk_targets(self) -> None:
        assert self.ts is not None
        queue: deque[tuple[str, str]] = deque([(Targets.type, Root.type)])
        visited: set[str] = set()
        while queue:
            role, parent = queue.popleft()
            if role in visited:
                self.roles[role].setdefault("also_delegated_by", []).append(parent)
                continue
            visited.add(role)
            rec = self.new_rec(role, parent)
            md = self.load_targets_role(role, parent, rec)
            if md is None:
                continue
            dels = md.signed.delegations
            if dels is None:
                continue
            if dels.roles is not None:
                children = list(dels.roles)
            elif dels.succinct_roles is not None:
                children = list(dels.succinct_roles.get_roles())
            else:
                children = []
            rec["delegates"] = children
            for child in children:
                queue.append((child, role))
        if len(visited) - 1 > self.config.max_delegations:
            self.notes.append(
                f"{len(visited) - 1} delegated roles: more than UpdaterConfig.max_delegations="
                f"{self.config.max_delegations}, a single lookup may stop early"
            )
        snap = self.ts.get(Snapshot.type) or (
            self.parsed[Snapshot.type].signed if Snapshot.type in self.parsed else None
        )
        if snap is not None:
            listed = {m[: -len(".json")] for m in snap.meta if m.endswith(".json")}
            self.snapshot_unreferenced = sorted(listed - visited)
        else:
            self.snapshot_unreferenced = []

    def load_targets_role(self, role: str, parent: str, rec: dict[str, Any]) -> Metadata | None:
        assert self.ts is not None
        parent_trusted = parent in self.ts if parent != Root.type else True
        rec["delegator_trusted"] = parent_trusted
        if parent == Root.type:
            delegator = self.ts.root
        elif parent_trusted:
            delegator = self.ts[parent]
        elif parent in self.parsed:
            delegator = self.parsed[parent].signed
        else:
            delegator = None
        snap = self.ts.get(Snapshot.type) or (
            self.parsed[Snapshot.type].signed if Snapshot.type in self.parsed else None
        )
        md = None
        try:
            if snap is None:
                raise RuntimeError("no snapshot to name the role version")
            metainfo = snap.meta.get(f"{role}.json")
            if metainfo is None:
                # as Updater._load_targets
                raise tuf_exc.RepositoryError(
                    f"Role {role} was delegated but is not part of snapshot"
                )
            length = metainfo.length or self.config.targets_max_length
            version = metainfo.version if self.ts.root.consistent_snapshot else None
            data = self.fetch_role(role, length, version, rec)
            md = self.parse_into(role, data, rec)
            if md is not None and delegator is not None:
                self.count(delegator, role, md, rec)
            if parent == Root.type:
                self.ts.update_targets(data)
            else:
                self.ts.update_delegated_targets(data, role, parent)
        except Exception as e:  # noqa: BLE001
            self.fail(role, e, rec)
        rec["loaded"] = self.ts.contains(role, parent)
        if md is not None and md.signed.type != Targets.type:
            return None
        return md

    # -- result --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.final_root = None
        self.snapshot_unreferenced: list[str] = []
        if self.run_roots():
            self.run_top()
        return {
            "verdict": "ok" if not self.errors else "failed",
            "roots": self.roots,
            "final_root": self.final_root,
            "roles": self.roles,
            "snapshot_unreferenced": self.snapshot_unreferenced,
            "errors": self.errors,
            "undecidable": self.undecidable,
            "notes": self.notes,
        }


def offline_bundle_facts(key: Any, sig: Any, payload: bytes) -> dict[str, Any]:
    """What can be said offline about a Sigstore bundle (not a python-tuf check)."""
    facts: dict[str, Any] = {}
    bundle = sig.unrecognized_fields.get("bundle")
    if not isinstance(bundle, dict):
        facts["bundle"] = "absent"
        return facts
    facts["bundle_media_type"] = bundle.get("mediaType")
    try:
        digest = bundle["messageSignature"]["messageDigest"]
        facts["bundle_digest_matches_payload"] = (
            digest.get("algorithm") == "SHA2_256"
            and base64.b64decode(digest["digest"]) == hashlib.sha256(payload).digest()
        )
    except Exception:  # noqa: BLE001
        facts["bundle_digest_matches_payload"] = None
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.hashes import SHA256

        vm = bundle["verificationMaterial"]
        if "x509CertificateChain" in vm:
            raw = vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
        else:
            raw = vm["certificate"]["rawBytes"]
        cert = x509.load_der_x509_certificate(base64.b64decode(raw))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
        emails = san.get_values_for_type(x509.RFC822Name)
        facts["cert_identity_matches_key"] = key.keyval.get("identity") in (uris + emails)
        issuer = None
        for oid in ("1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1"):
            try:
                ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value
                val = ext.value
                issuer = val[2:].decode() if oid.endswith(".8") else val.decode()
                break
            except x509.ExtensionNotFound:
                continue
        facts["cert_issuer_matches_key"] = issuer == key.keyval.get("issuer")
        sig_bytes = base64.b64decode(bundle["messageSignature"]["signature"])
        try:
            cert.public_key().verify(sig_bytes, payload, ec.ECDSA(SHA256()))
            facts["signature_valid_under_cert_key"] = True
        except Exception:  # noqa: BLE001
            facts["signature_valid_under_cert_key"] = False
        facts["not_checked_offline"] = (
            "certificate chain to Fulcio root, Rekor inclusion/SET, signing time within the "
            "certificate's validity (trust material from Sigstore's TUF repository)"
        )
    except Exception as e:  # noqa: BLE001
        facts["cert"] = f"unreadable: {err(e)}"
    return facts


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--roots-only"]
    roots_only = len(args) != len(argv)
    if len(args) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    mdir, root_file, at_text = args
    if not os.path.isdir(mdir):
        print(f"real_verdict.py: not a directory: {mdir}", file=sys.stderr)
        return 2
    try:
        with open(root_file, "rb") as f:
            root_data = f.read()
    except OSError as e:
        print(f"real_verdict.py: cannot read trusted root: {e}", file=sys.stderr)
        return 2
    try:
        at = parse_at(at_text)
    except ValueError as e:
        print(f"real_verdict.py: bad time {at_text!r}: {e}", file=sys.stderr)
        return 2

    global ACCEPT_UNDECIDABLE
    out: dict[str, Any] = {}
    notes: list[str] = []

    # What python-tuf does with the default key registry, before opting in.
    default_sigstore = SIGSTORE_TYPE in KEY_FOR_TYPE_AND_SCHEME
    if not default_sigstore:
        try:
            Metadata.from_bytes(root_data)
        except Exception as e:  # noqa: BLE001
            cause = e.__cause__
            if cause is not None and "sigstore-oidc" in str(cause):
                notes.append(
                    "default securesystemslib 1.6.0 registry has no sigstore-oidc/Fulcio key: "
                    f"Metadata.from_bytes(trusted root) raises {err(e)}; "
                    "this script opts in with an offline SigstoreKey"
                )
    KEY_FOR_TYPE_AND_SCHEME[SIGSTORE_TYPE] = OfflineSigstoreKey

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ACCEPT_UNDECIDABLE = False
        result = Audit(mdir, root_data, at, roots_only).run()
        if result["undecidable"]:
            ACCEPT_UNDECIDABLE = True
            second = Audit(mdir, root_data, at, roots_only).run()
            ACCEPT_UNDECIDABLE = False
            result["verdict_if_undecidable_valid"] = second["verdict"]
            result["errors_if_undecidable_valid"] = second["errors"]
        else:
            result["verdict_if_undecidable_valid"] = result["verdict"]

    out["verdict"] = result.pop("verdict")
    out["verdict_if_undecidable_valid"] = result.pop("verdict_if_undecidable_valid")
    out["metadata_dir"] = mdir
    out["trusted_root"] = root_file
    out["at"] = iso(at)
    out["scope"] = "roots-only" if roots_only else "full"
    out["python_tuf"] = tuf.__version__
    out["securesystemslib"] = securesystemslib.__version__
    out["reference_time"] = (
        "TrustedMetadataSet.reference_time set to AT after construction (no datetime patching)"
    )
    out.update(result)
    out["notes"] = notes + out["notes"]
    out["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
