"""Checkpoint, proof, public-key and witness commands: what they show is verified first."""

from __future__ import annotations

import base64
import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.cli.conftest import Cli, invoke, one_line_error
from tests.conftest import TenantCtx
from tests.factories import add_member, unique
from trustplane.audit import merkle, notes
from trustplane.audit.keys import load_signer
from trustplane.client import TrustplaneClient


def signer_of(client: TestClient) -> notes.Signer:
    app: Any = client.app
    signer: notes.Signer = app.state.signer
    return signer


def grow(cli: Cli, count: int) -> None:
    for _ in range(count):
        cli.json("principals", "create-user", unique("w"))


def flip(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def test_public_key(cli: Cli, client: TestClient) -> None:
    assert cli.ok("audit", "public-key").strip() == signer_of(client).verifier().key_string()


def test_checkpoint_show_and_create(cli: Cli, client: TestClient, tenant: TenantCtx) -> None:
    shown = cli.json("audit", "checkpoint")
    body = notes.verify_checkpoint(shown["note"], signer_of(client).verifier())
    assert body.origin == f"trustplane/ledger/{tenant.id}"
    text = cli.ok("audit", "checkpoint")
    assert "signature verified" in text and shown["root_hash"] in text
    grow(cli, 1)
    created = cli.json("audit", "checkpoint", "--create")
    assert created["size"] == shown["size"] + 1
    listed = cli.json("audit", "checkpoints")
    assert [c["size"] for c in listed["items"]] == [shown["size"], created["size"]]
    assert str(created["size"]) in cli.ok("audit", "checkpoints")


def test_create_needs_the_checkpoint_permission(
    cli: Cli, client: TestClient, tenant: TenantCtx
) -> None:
    auditor = add_member(client, tenant, "auditor")
    assert "audit.checkpoint" in cli.error(
        1, "audit", "checkpoint", "--create", token=auditor.token
    )
    assert cli.json("audit", "checkpoint", token=auditor.token)["size"] > 0


def test_inclusion_proofs_verify(cli: Cli) -> None:
    events = cli.json("audit", "events")["items"]
    cli.json("audit", "checkpoint", "--create")
    for event in events:
        text = cli.ok("audit", "proof", "inclusion", "--index", str(event["seq"]))
        assert text.startswith("verified: ") and event["id"] in text
    proof = cli.json("audit", "proof", "inclusion", "--event-id", events[1]["id"])
    assert (proof["index"], proof["event_id"]) == (1, events[1]["id"])
    older = cli.json("audit", "proof", "inclusion", "--index", "0", "--size", "2")
    assert older["tree_size"] == 2  # linked to the signed head by a consistency proof


def test_consistency_proofs_verify(cli: Cli) -> None:
    size = cli.json("audit", "checkpoint", "--create")["size"]
    text = cli.ok("audit", "proof", "consistency", "--first", "1", "--second", str(size))
    assert text.startswith("verified: ")
    proof = cli.json("audit", "proof", "consistency", "--first", "2")
    assert (proof["first"], proof["second"]) == (2, size)
    partial = cli.json("audit", "proof", "consistency", "--first", "1", "--second", "3")
    assert partial["second"] == 3


def test_proofs_beyond_the_signed_head_are_refused(cli: Cli) -> None:
    size = cli.json("audit", "checkpoint", "--create")["size"]
    grow(cli, 1)
    message = cli.error(1, "audit", "proof", "inclusion", "--index", "0", "--size", str(size + 1))
    assert "beyond the latest signed checkpoint" in message
    assert "--create" in message


def test_proof_usage_errors(cli: Cli) -> None:
    assert "exactly one" in cli.error(2, "audit", "proof", "inclusion")
    assert "exactly one" in cli.error(
        2, "audit", "proof", "inclusion", "--index", "0", "--event-id", "evt_x"
    )
    assert "HTTP 404" in cli.error(2, "audit", "proof", "inclusion", "--event-id", "evt_nope")
    assert "HTTP 400" in cli.error(2, "audit", "proof", "consistency", "--first", "10000000")


def tamper(monkeypatch: pytest.MonkeyPatch, name: str, change: dict[str, Any]) -> None:
    """Make the SDK method ``name`` return the server's answer with ``change`` applied."""
    real = getattr(TrustplaneClient, name)

    def tampered(self: TrustplaneClient, *args: Any, **kwargs: Any) -> Any:
        result = real(self, *args, **kwargs)
        data = result.api_json()
        edits = {k: v(data) if callable(v) else v for k, v in change.items()}
        return type(result).from_api({**data, **edits})

    monkeypatch.setattr(TrustplaneClient, name, tampered)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"audit_path": lambda d: [flip(d["audit_path"][0]), *d["audit_path"][1:]]}, "verify"),
        ({"audit_path": lambda d: d["audit_path"][:-1]}, "verify"),
        ({"leaf": lambda d: d["leaf"].replace('"v":1', '"v":2')}, "does not match its data"),
        ({"root_hash": lambda d: flip(d["root_hash"])}, "verify"),
        ({"index": 2}, "asked for leaf 1"),
        ({"leaf_hash": "not base64!"}, "not a base64 hash"),
    ],
)
def test_a_tampered_inclusion_proof_fails(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, change: dict[str, Any], message: str
) -> None:
    cli.json("audit", "checkpoint", "--create")
    tamper(monkeypatch, "inclusion_proof", change)
    assert message in cli.error(1, "audit", "proof", "inclusion", "--index", "1")


def test_a_tampered_consistency_proof_fails(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.json("audit", "checkpoint", "--create")
    tamper(monkeypatch, "consistency_proof", {"proof": lambda d: [flip(h) for h in d["proof"]]})
    assert "does not verify" in cli.error(1, "audit", "proof", "consistency", "--first", "3")


def test_a_forged_checkpoint_fails(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    real = cli.json("audit", "checkpoint")
    body = notes.Checkpoint.parse(notes.parse_note(real["note"])[0])
    forger = notes.Signer.generate("trustplane")
    forged = notes.sign_checkpoint(body, forger)
    tamper(monkeypatch, "audit_checkpoint", {"note": forged})
    assert "checkpoint does not verify" in cli.error(1, "audit", "checkpoint")
    assert "checkpoint does not verify" in cli.error(
        1, "audit", "proof", "inclusion", "--index", "0"
    )


def test_checkpoint_fields_must_restate_the_note(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    tamper(monkeypatch, "audit_checkpoint", {"size": lambda d: d["size"] + 1})
    assert "differ from its signed note" in cli.error(1, "audit", "checkpoint")


def test_key_file_pins_the_key(cli: Cli, client: TestClient, tmp_path: Path) -> None:
    good = tmp_path / "good.key"
    good.write_text(signer_of(client).verifier().key_string() + "\n")
    assert "signature verified" in cli.ok("audit", "checkpoint", "--key-file", str(good))
    other = tmp_path / "other.key"
    other.write_text(notes.Signer.generate("trustplane").verifier().key_string())
    assert "does not verify" in cli.error(1, "audit", "checkpoint", "--key-file", str(other))
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    assert "not a valid verifier key" in cli.error(
        1, "audit", "checkpoint", "--key-file", str(junk)
    )
    assert "cannot read key file" in cli.error(
        1, "audit", "checkpoint", "--key-file", str(tmp_path / "missing.key")
    )


def witnessed(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_witness_appends_new_checkpoints(cli: Cli, client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "witness.jsonl"
    first = cli.json("audit", "checkpoint", "--create")
    assert "witnessed: " in cli.ok("audit", "witness", "--to", str(path))
    assert "already witnessed" in cli.ok("audit", "witness", "--to", str(path))
    grow(cli, 2)
    cli.json("audit", "checkpoint", "--create")
    cli.ok("audit", "witness", "--to", str(path))
    records = witnessed(path)
    assert [r["size"] for r in records] == [first["size"], first["size"] + 2]
    for record in records:
        assert set(record) == {"origin", "size", "note"}
        body = notes.verify_checkpoint(record["note"], signer_of(client).verifier())
        assert (body.origin, body.size) == (record["origin"], record["size"])


def test_witness_detects_a_rewritten_or_shrunk_history(
    cli: Cli, client: TestClient, tmp_path: Path
) -> None:
    current = cli.json("audit", "checkpoint", "--create")
    origin, size = current["origin"], current["size"]
    signer = signer_of(client)
    path = tmp_path / "witness.jsonl"
    other_root = notes.Checkpoint(origin, size - 1, merkle.leaf_hash(b"forged"))
    path.write_text(
        json.dumps(
            {"origin": origin, "size": size - 1, "note": notes.sign_checkpoint(other_root, signer)}
        )
        + "\n"
    )
    assert "history rewritten" in cli.error(1, "audit", "witness", "--to", str(path))
    assert len(witnessed(path)) == 1
    bigger = notes.Checkpoint(origin, size + 5, merkle.leaf_hash(b"future"))
    path.write_text(
        json.dumps(
            {"origin": origin, "size": size + 5, "note": notes.sign_checkpoint(bigger, signer)}
        )
        + "\n"
    )
    assert "shrank" in cli.error(1, "audit", "witness", "--to", str(path))
    path.write_text("not json\n")
    assert "line 1 is not JSON" in cli.error(1, "audit", "witness", "--to", str(path))
    path.write_bytes(b"\xff\n")
    assert "not UTF-8" in cli.error(1, "audit", "witness", "--to", str(path))


class _Receiver(BaseHTTPRequestHandler):
    received: list[Any] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/witness", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_witness_posts_the_record(
    cli: Cli, tmp_path: Path, receiver: tuple[str, type[_Receiver]]
) -> None:
    url, handler = receiver
    path = tmp_path / "w.jsonl"
    text = cli.ok("audit", "witness", "--to", str(path), "--post", url)
    assert "posted to" in text
    assert handler.received == witnessed(path)
    handler.status = 503
    result = cli("audit", "witness", "--to", str(path), "--post", url)
    assert result.exit_code == 1
    assert "HTTP 503" in result.stderr and len(result.stderr.splitlines()) == 1
    closed = cli("audit", "witness", "--to", str(path), "--post", "http://127.0.0.1:9/x")
    assert closed.exit_code == 1
    assert closed.stderr.startswith("error: cannot POST")


def test_witness_file_that_cannot_be_written(cli: Cli, tmp_path: Path) -> None:
    result = cli("audit", "witness", "--to", str(tmp_path / "missing" / "w.jsonl"))
    assert result.exit_code == 1
    assert "cannot use witness file" in one_line_error(result)


def test_db_upgrade_creates_the_signing_key(tmp_path: Path) -> None:
    env = {"TRUSTPLANE_HOME": str(tmp_path), "TRUSTPLANE_DATABASE_URL": None}
    first = invoke("db", "upgrade", env=env)
    assert first.exit_code == 0, first.stderr
    key = tmp_path / "ledger.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    signer = load_signer(key)
    assert signer.verifier().key_string() in first.stdout
    again = invoke("db", "upgrade", env=env)
    assert signer.verifier().key_string() in again.stdout
    exposed = tmp_path / "exposed.key"
    exposed.write_text(signer.private_key_string())
    exposed.chmod(0o644)
    refused = invoke("db", "upgrade", env={**env, "TRUSTPLANE_LEDGER_KEY_PATH": str(exposed)})
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ledger signing key: ")
    assert "accessible by group or others" in refused.stderr
