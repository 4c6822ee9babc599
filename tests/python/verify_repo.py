"""Verifies a TUF repository's metadata directory with python-tuf 7.0.1, independently of
tuf-ceremony.

Usage:
    verify_repo.py METADATA_DIR [--root FILE] [--target PATH]... [--expect-missing PATH]...

METADATA_DIR holds consistent-snapshot names: N.root.json, V.targets.json, V.<role>.json
(role name percent-encoded as python-tuf requests it), V.snapshot.json, timestamp.json.

Two independent passes, both must pass:

1. Static: every file is loaded with ``Metadata.from_file`` (python-tuf's strict
   deserializer) and verified by its delegator: root N+1 by root N *and* by itself (both
   thresholds, sequential versions), timestamp/snapshot/targets by the newest root, every
   delegated role by its delegator (``verify_delegate``), walking the delegation graph from
   targets. Also: file-name versions match the versions inside, timestamp's snapshot
   entry (version, length, hashes) matches the snapshot file, snapshot lists targets and
   every delegated role at the version published, and nothing has expired.
2. Client: python-tuf's real ``tuf.ngclient.Updater``, bootstrapped from the trusted root
   (default METADATA_DIR/1.root.json), with a fetcher that serves METADATA_DIR, runs
   ``refresh()`` and ``get_targetinfo()`` for each --target (must be found) and each
   --expect-missing (must not be found).

Prints a short report; exits 1 on any failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from urllib import parse

import tuf
from tuf.api.exceptions import DownloadHTTPError
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig

BASE_URL = "https://repo.invalid/metadata/"
VERSIONED = re.compile(r"^([1-9][0-9]*)\.(.+)\.json$")


class LocalFetcher(FetcherInterface):
    """Serves files of one local directory for URLs under BASE_URL; 404 for the rest."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.fetched: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        if not url.startswith(BASE_URL):
            raise DownloadHTTPError(f"not under {BASE_URL}: {url}", 404)
        name = url[len(BASE_URL):]
        # The Updater percent-encodes role names; the files are named the same way.
        if "/" in name or name in ("", ".", ".."):
            raise DownloadHTTPError(f"bad file name in {url}", 404)
        path = os.path.join(self.directory, name)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise DownloadHTTPError(f"{name}: not found", 404) from None
        self.fetched.append(name)
        return iter([data])


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.notes: list[str] = []

    def fail(self, msg: str) -> None:
        self.failures.append(msg)
        print(f"FAIL: {msg}")

    def ok(self, msg: str) -> None:
        print(f"ok: {msg}")


def static_checks(mdir: str, rep: Report) -> None:
    roots: dict[int, Metadata] = {}
    versioned: dict[str, dict[int, tuple[str, Metadata]]] = {}  # role -> version -> (file, md)
    timestamp: Metadata | None = None
    loaded = 0

    for name in sorted(os.listdir(mdir)):
        path = os.path.join(mdir, name)
        if not name.endswith(".json") or not os.path.isfile(path):
            continue
        try:
            md = Metadata.from_file(path)
        except Exception as e:  # noqa: BLE001 - any refusal is the finding
            rep.fail(f"{name}: python-tuf cannot load it: {type(e).__name__}: {e}")
            continue
        loaded += 1
        if md.signed.is_expired():
            rep.fail(f"{name}: expired ({md.signed.expires})")
        if name == "timestamp.json":
            timestamp = md
            continue
        m = VERSIONED.match(name)
        if not m:
            rep.notes.append(f"{name}: not a consistent-snapshot name, ignored")
            continue
        version, role = int(m.group(1)), parse.unquote(m.group(2))
        if md.signed.version != version:
            rep.fail(f"{name}: file name says version {version}, metadata says {md.signed.version}")
        if role == "root":
            if not isinstance(md.signed, Root):
                rep.fail(f"{name}: not root metadata")
                continue
            roots[version] = md
        else:
            versioned.setdefault(role, {})[version] = (name, md)
    print(f"loaded {loaded} metadata files with Metadata.from_file")

    # Root chain: N+1 verified by N and by itself; the first by itself.
    if not roots:
        rep.fail("no N.root.json")
        return
    chain = sorted(roots)
    if chain != list(range(chain[0], chain[-1] + 1)):
        rep.fail(f"root versions are not contiguous: {chain}")
    previous: Root | None = None
    for n in chain:
        md = roots[n]
        try:
            res = md.signed.get_root_verification_result(previous, md.signed_bytes, md.signatures)
        except ValueError as e:
            rep.fail(f"{n}.root.json: {e}")
            previous = md.signed
            continue
        what = "itself" if previous is None else f"root v{previous.version} and itself"
        if res.verified:
            rep.ok(f"{n}.root.json verified by {what} ({len(res.first.signed)}/{res.first.threshold}, {len(res.second.signed)}/{res.second.threshold})")
        else:
            rep.fail(f"{n}.root.json NOT verified by {what} ({len(res.first.signed)}/{res.first.threshold}, {len(res.second.signed)}/{res.second.threshold})")
        previous = md.signed
    root: Root = roots[chain[-1]].signed

    def verify(delegator, role: str, file: str, md: Metadata) -> bool:
        try:
            delegator.verify_delegate(role, md.signed_bytes, md.signatures)
            return True
        except Exception as e:  # noqa: BLE001
            rep.fail(f"{file}: not verified as {role!r}: {type(e).__name__}: {e}")
            return False

    # Timestamp -> snapshot.
    if timestamp is None:
        rep.fail("no timestamp.json")
        return
    if not isinstance(timestamp.signed, Timestamp):
        rep.fail("timestamp.json is not timestamp metadata")
        return
    if verify(root, Timestamp.type, "timestamp.json", timestamp):
        rep.ok(f"timestamp.json v{timestamp.signed.version} verified by root v{root.version}")
    snap_meta = timestamp.signed.snapshot_meta
    snap_entry = versioned.get("snapshot", {}).get(snap_meta.version)
    if snap_entry is None:
        rep.fail(f"timestamp lists snapshot v{snap_meta.version} but {snap_meta.version}.snapshot.json is missing")
        return
    snap_file, snap_md = snap_entry
    if not isinstance(snap_md.signed, Snapshot):
        rep.fail(f"{snap_file} is not snapshot metadata")
        return
    try:
        with open(os.path.join(mdir, snap_file), "rb") as f:
            snap_meta.verify_length_and_hashes(f.read())
    except Exception as e:  # noqa: BLE001
        rep.fail(f"{snap_file}: does not match timestamp's length/hashes: {e}")
    if verify(root, Snapshot.type, snap_file, snap_md):
        rep.ok(f"{snap_file} verified by root v{root.version}")
    meta = snap_md.signed.meta

    def current(role: str) -> tuple[str, Metadata] | None:
        entry = meta.get(f"{role}.json")
        if entry is None:
            rep.fail(f"snapshot does not list {role}.json")
            return None
        found = versioned.get(role, {}).get(entry.version)
        if found is None:
            rep.fail(f"snapshot lists {role}.json v{entry.version} but {entry.version}.{parse.quote(role, '')}.json is missing")
            return None
        if entry.length is not None or entry.hashes:
            try:
                with open(os.path.join(mdir, found[0]), "rb") as f:
                    entry.verify_length_and_hashes(f.read())
            except Exception as e:  # noqa: BLE001
                rep.fail(f"{found[0]}: does not match snapshot's length/hashes: {e}")
        if not isinstance(found[1].signed, Targets):
            rep.fail(f"{found[0]}: not targets metadata")
            return None
        return found

    # Targets and the delegation graph, breadth first; each role verified once.
    top = current(Targets.type)
    if top is None:
        return
    if verify(root, Targets.type, top[0], top[1]):
        rep.ok(f"{top[0]} verified by root v{root.version}")
    visited = {Targets.type}
    queue: list[tuple[str, Metadata]] = [(Targets.type, top[1])]
    delegated = 0
    while queue:
        parent_name, parent = queue.pop(0)
        d = parent.signed.delegations
        if d is None:
            continue
        if d.roles is not None:
            children = list(d.roles)
        else:
            children = list(d.succinct_roles.get_roles())
        for child in children:
            if child in visited:
                continue
            visited.add(child)
            found = current(child)
            if found is None:
                continue
            if verify(parent.signed, child, found[0], found[1]):
                delegated += 1
            queue.append((child, found[1]))
    rep.ok(f"{delegated} delegated roles verified by their delegators")

    listed = {k[: -len(".json")] for k in meta}
    for role in sorted(listed - visited):
        rep.fail(f"snapshot lists {role}.json, which no role delegates to")
    for role in sorted(set(versioned) - visited - {"snapshot"}):
        rep.fail(f"{sorted(versioned[role])} {role}: files of a role nothing delegates to")
    for role, by_version in versioned.items():
        if role in visited and role != "snapshot" and len(by_version) > 1:
            rep.notes.append(f"{role}: older versions {sorted(by_version)[:-1]} not checked")


def client_checks(mdir: str, bootstrap: bytes, targets: list[str], missing: list[str], rep: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="python-tuf-client-") as cache:
        fetcher = LocalFetcher(mdir)
        try:
            updater = Updater(
                metadata_dir=cache,
                metadata_base_url=BASE_URL,
                fetcher=fetcher,
                config=UpdaterConfig(),
                bootstrap=bootstrap,
            )
            updater.refresh()
        except Exception as e:  # noqa: BLE001
            rep.fail(f"Updater.refresh() failed: {type(e).__name__}: {e}")
            return
        roots = [n for n in fetcher.fetched if n.endswith(".root.json")]
        rep.ok(f"Updater.refresh() OK (fetched roots {roots}, then {[n for n in fetcher.fetched if n not in roots]})")
        for path in targets:
            before = len(fetcher.fetched)
            try:
                info = updater.get_targetinfo(path)
            except Exception as e:  # noqa: BLE001
                rep.fail(f"get_targetinfo({path!r}) failed: {type(e).__name__}: {e}")
                continue
            if info is None:
                rep.fail(f"get_targetinfo({path!r}): not found")
            else:
                walked = fetcher.fetched[before:]
                print(f"FOUND {path} length={info.length} sha256={info.hashes.get('sha256')} via {walked}")
        for path in missing:
            try:
                info = updater.get_targetinfo(path)
            except Exception as e:  # noqa: BLE001
                rep.fail(f"get_targetinfo({path!r}) failed: {type(e).__name__}: {e}")
                continue
            if info is not None:
                rep.fail(f"get_targetinfo({path!r}): expected not found, got {info.length} bytes")
            else:
                print(f"MISSING {path} (as expected)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("metadata_dir")
    ap.add_argument("--root", help="trusted root to bootstrap the Updater (default METADATA_DIR/1.root.json)")
    ap.add_argument("--target", action="append", default=[], help="a target path the Updater must find")
    ap.add_argument("--expect-missing", action="append", default=[], help="a target path the Updater must not find")
    args = ap.parse_args()

    print(f"python-tuf {tuf.__version__}")
    rep = Report()
    mdir = os.path.abspath(args.metadata_dir)
    static_checks(mdir, rep)
    root_file = args.root or os.path.join(mdir, "1.root.json")
    try:
        with open(root_file, "rb") as f:
            bootstrap = f.read()
    except OSError as e:
        rep.fail(f"trusted root: {e}")
    else:
        client_checks(mdir, bootstrap, args.target, args.expect_missing, rep)
    for n in rep.notes:
        print(f"note: {n}")
    if rep.failures:
        print(f"FAILED: {len(rep.failures)} failure(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
