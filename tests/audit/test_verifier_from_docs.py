"""A verifier written from docs/audit.md alone accepts our exports and rejects tampered ones.

``independent_verify`` uses only the standard library and an Ed25519 implementation, never
Trustplane's Merkle, note or verify modules: if the docs left out or misstated a detail (key
ids, what the signature covers, the tree split, the line format), it would disagree with the
server's exports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import bootstrap_tenant
from trustplane.audit import Origin, Target, record
from trustplane.audit.checkpoints import create_checkpoint, signer_from_settings
from trustplane.audit.export import export_ledger
from trustplane.config import Settings
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.identity.actor import Actor

EM_DASH = "\u2014 "


class Rejected(Exception):
    """The export does not prove what it claims."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def tree_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 root, by the recursive definition in the docs."""
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha256(b"\x01" + tree_root(leaves[:k]) + tree_root(leaves[k:]))


def parse_key(text: str) -> tuple[str, bytes]:
    name, key_id, data = text.split("+", 2)  # the base64 part may hold "+" itself
    raw = base64.b64decode(data, validate=True)
    if raw[0] != 0x01 or len(raw) != 33:
        raise Rejected("not an Ed25519 verifier key")
    expected = sha256(name.encode() + b"\n" + b"\x01" + raw[1:])[:4].hex()
    if key_id != expected:
        raise Rejected("key id does not match the key")
    return name, raw[1:]


def open_checkpoint(note: str, name: str, public: bytes) -> tuple[str, int, bytes]:
    """Origin, size and root of a signed checkpoint note, once its signature verified."""
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    key_id = sha256(name.encode() + b"\n" + b"\x01" + public)[:4]
    verified = False
    for line in signatures.removesuffix("\n").split("\n"):
        if not line.startswith(EM_DASH):
            raise Rejected("malformed signature line")
        signer, _, data = line.removeprefix(EM_DASH).partition(" ")
        raw = base64.b64decode(data, validate=True)
        if signer != name or raw[:4] != key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature as exc:
            raise Rejected("bad signature") from exc
        verified = True
    if not verified:
        raise Rejected("no signature by the key")
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


def independent_verify(folder: Path) -> int:
    """Check an export as docs/audit.md describes; return its size or raise Rejected."""
    name, public = parse_key((folder / "public.key").read_text(encoding="utf-8").strip())
    origin, size, root = open_checkpoint((folder / "checkpoint").read_text("utf-8"), name, public)
    tenant = origin.rpartition("/ledger/")[2]
    data = (folder / "events.jsonl").read_bytes()
    if data and not data.endswith(b"\n"):
        raise Rejected("events.jsonl does not end with a newline")
    lines = data.split(b"\n")[:-1]
    if len(lines) != size:
        raise Rejected(f"{len(lines)} lines, the checkpoint covers {size}")
    for index, line in enumerate(lines):
        event = json.loads(line)
        if event["seq"] != index or event["tenant"] != tenant:
            raise Rejected(f"line {index} is not leaf {index} of {tenant}")
    if tree_root(lines) != root:
        raise Rejected("root differs from the signed root")
    for path in (folder / "checkpoints").iterdir():
        stored_origin, stored_size, stored_root = open_checkpoint(
            path.read_text("utf-8"), name, public
        )
        if (stored_origin, stored_size) != (origin, int(path.name)):
            raise Rejected(f"checkpoints/{path.name} is for another ledger or size")
        if stored_size > size or tree_root(lines[:stored_size]) != stored_root:
            raise Rejected(f"checkpoints/{path.name} is not a prefix of this export")
    return size


@pytest.fixture(scope="module")
def export(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """An export of 21 events with checkpoints at several sizes, some payloads non-ASCII."""
    tenant = bootstrap_tenant(session_factory)
    actor = Actor.local_system(Origin("docs-verifier"))
    signer = signer_from_settings(settings)
    for i in range(15):
        with unit_of_work(session_factory) as session:
            scope_to_tenant(session, tenant.id)
            name = f"café \u2014 {i} \U0001f600" if i % 4 == 0 else None
            record(session, actor, "test.ping", Target("test", str(i), name), tenant_id=tenant.id)
            if i % 5 == 0:
                create_checkpoint(session, tenant.id, signer, settings.ledger_name)
    folder = tmp_path_factory.mktemp("docs-export") / "out"
    with session_factory() as session:
        scope_to_tenant(session, tenant.id)
        export_ledger(session, tenant.id, signer, settings.ledger_name, folder)
    return folder


def test_an_export_verifies_with_a_verifier_written_from_the_docs(export: Path) -> None:
    size = independent_verify(export)
    assert size > 15
    assert len(list((export / "checkpoints").iterdir())) == 4


@pytest.mark.parametrize(
    "tamper",
    ["flip a byte", "drop the last line", "resize a stored checkpoint", "swap two lines"],
)
def test_the_docs_verifier_rejects_a_tampered_export(
    export: Path, tmp_path: Path, tamper: str
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(export, folder)
    events = folder / "events.jsonl"
    lines = events.read_bytes().split(b"\n")[:-1]
    if tamper == "flip a byte":
        lines[-3] = lines[-3].replace(b"test.ping", b"test.pong")
    elif tamper == "drop the last line":
        lines.pop()
    elif tamper == "swap two lines":
        lines[3], lines[4] = lines[4], lines[3]
    else:
        stored = sorted((folder / "checkpoints").iterdir(), key=lambda p: int(p.name))
        stored[0].rename(stored[0].with_name(str(int(stored[0].name) + 1)))
    events.write_bytes(b"".join(line + b"\n" for line in lines))
    with pytest.raises(Rejected):
        independent_verify(folder)
