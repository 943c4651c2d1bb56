"""Signed notes and checkpoints: spec formulas, outside vectors, tampering, key files."""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from trustplane.audit.keys import (
    KeyFileError,
    load_or_create_signer,
    load_signer,
    verifier_key_string,
)
from trustplane.audit.notes import (
    Checkpoint,
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    open_note,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
)

ORIGIN = "trustplane.example/ledger/tn_01J0000000000000000000000"
ROOT = hashlib.sha256(b"root").digest()
EM = "\u2014"

# Go's golang.org/x/mod/sumdb/note tests and package docs (BSD licence): a fixed key and note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    f"{EM} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuG"
    "UgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    f"{EM} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+v"
    "AF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
# A real sum.golang.org checkpoint and its published key, as quoted in the tests of
# github.com/google/trillian-examples (formats/log): produced by someone else's code.
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    f"{EM} sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4"
    "nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)


def _signer(name: str = ORIGIN, seed: int = 7) -> Signer:
    return Signer.from_seed(name, bytes([seed]) * 32)


def _signed_checkpoint(signer: Signer | None = None) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, 42, ROOT), signer or _signer())


def _flip(text: str, index: int) -> str:
    """Change one ASCII character into another valid one (base64 stays base64)."""
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1 :]


# --- known answers ---------------------------------------------------------------------------


def test_key_id_and_key_strings_follow_the_spec_formula() -> None:
    seed = bytes(range(32))
    name = "trustplane.example/ledger/kat"
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    expected_id = hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + public).digest()[:4].hex()
    signer = Signer.from_seed(name, seed)
    assert f"{signer.key_id:08x}" == expected_id
    b64_pub = base64.b64encode(b"\x01" + public).decode()
    assert verifier_key_string(signer) == f"{name}+{expected_id}+{b64_pub}"
    b64_seed = base64.b64encode(b"\x01" + seed).decode()
    assert signer.private_key_string() == f"PRIVATE+KEY+{name}+{expected_id}+{b64_seed}"

    note = sign_note("hello\n", signer)
    text, _, sig_line = note.partition("\n\n")
    assert text == "hello"
    assert sig_line.startswith(f"{EM} {name} ") and sig_line.endswith("\n")
    raw = base64.b64decode(sig_line.removeprefix(f"{EM} {name} ").rstrip("\n"))
    assert raw[:4].hex() == expected_id and len(raw) == 68
    Ed25519PrivateKey.from_private_bytes(seed).public_key().verify(raw[4:], b"hello\n")


def test_go_sumdb_note_vector_signs_byte_for_byte() -> None:
    signer = Signer.from_key_string(GO_SKEY)
    assert signer.private_key_string() == GO_SKEY
    assert verifier_key_string(signer) == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_TEXT + "\n" + GO_PETER_SIG


def test_go_sumdb_note_vector_opens_and_ignores_unknown_keys() -> None:
    peter, enoch = Verifier.from_key_string(GO_VKEY), Verifier.from_key_string(GO_ENOCH_VKEY)
    note = GO_TEXT + "\n" + GO_PETER_SIG + GO_ENOCH_SIG
    text, sigs = open_note(note, [peter])
    assert text == GO_TEXT
    assert [(s.name, s.key_id) for s in sigs] == [("PeterNeumann", 0xC74F20A3)]
    _, both = open_note(note, [peter, enoch])
    assert [s.name for s in both] == ["PeterNeumann", "EnochRoot"]
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [])
    renamed = GO_TEXT + "\n" + GO_PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    with pytest.raises(NoteError, match="found CarmenSandiego\\+c74f20a3"):
        open_note(renamed, [peter])


def test_real_sum_golang_org_checkpoint_verifies() -> None:
    checkpoint = verify_checkpoint(
        SUMDB_NOTE, Verifier.from_key_string(SUMDB_VKEY), expected_origin="go.sum database tree"
    )
    assert checkpoint.size == 6476701
    assert base64.b64encode(checkpoint.root_hash).decode() == (
        "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="
    )


# --- round trips -----------------------------------------------------------------------------


def test_checkpoint_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, ROOT, ("ext one", "ext two"))
    assert Checkpoint.parse(checkpoint.to_text()) == checkpoint
    signer = _signer()
    assert verify_checkpoint(sign_checkpoint(checkpoint, signer), signer.verifier()) == checkpoint


def test_note_text_may_hold_blank_lines_and_two_signers() -> None:
    a, b = _signer("a.example/log", 1), _signer("b.example/witness", 2)
    note = sign_note("first\n\nthird\n", a, b)
    text, sigs = open_note(note, [a.verifier(), b.verifier()])
    assert text == "first\n\nthird\n"
    assert [s.name for s in sigs] == ["a.example/log", "b.example/witness"]


@given(
    origin=st.text(
        st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
    ),
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
)
def test_random_checkpoints_round_trip(origin: str, size: int, root: bytes) -> None:
    signer = _signer("trustplane.example/ledger")
    checkpoint = Checkpoint(origin, size, root)
    note = sign_checkpoint(checkpoint, signer)
    assert verify_checkpoint(note, signer.verifier(), expected_origin=origin) == checkpoint


# --- verification failures -------------------------------------------------------------------


def test_flipped_byte_in_body_fails() -> None:
    note = _signed_checkpoint()
    tampered = note.replace("\n42\n", "\n43\n", 1)
    with pytest.raises(NoteError, match="invalid signature"):
        verify_checkpoint(tampered, _signer().verifier())


def test_flipped_byte_in_signature_fails() -> None:
    note = _signed_checkpoint()
    tampered = _flip(note, len(note) - 20)
    with pytest.raises(NoteError, match="invalid signature"):
        verify_checkpoint(tampered, _signer().verifier())


def test_same_name_other_key_is_unknown_not_trusted() -> None:
    impostor = _signer(seed=9)
    assert impostor.name == _signer().name and impostor.key_id != _signer().key_id
    with pytest.raises(NoteError, match="no signature from a known key"):
        verify_checkpoint(_signed_checkpoint(impostor), _signer().verifier())


def test_signature_under_a_known_key_id_but_wrong_key_is_rejected() -> None:
    """A forged line reusing the trusted name and key ID must fail, not be skipped."""
    good, forger = _signer(), _signer(seed=9)
    text = Checkpoint(ORIGIN, 42, ROOT).to_text()
    forged = NoteSignature(good.name, good.key_id, forger.sign(text.encode()))
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(text + "\n" + forged.line(), [good.verifier()])


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda n: n.removesuffix("\n"), "does not end with a newline"),
        (lambda n: n.replace("\n\n", "\n", 1), "no blank line"),
        (lambda n: n.replace(f"{EM} ", "- ", 1), "does not start with an em dash"),
        (lambda n: "\r" + n, "control character"),
        (lambda n: n + "trailing junk\n", "does not start with an em dash"),
        (lambda n: n.replace("=\n", "\n"), "not valid base64"),
        (lambda n: n + n.partition("\n\n")[2] * 100, "more than 100"),
    ],
)
def test_malformed_notes_are_rejected(mangle: Callable[[str], str], message: str) -> None:
    with pytest.raises(NoteError, match=message):
        open_note(mangle(_signed_checkpoint()), [_signer().verifier()])


def test_wrong_origin_is_rejected() -> None:
    with pytest.raises(NoteError, match="expected 'other/log'"):
        verify_checkpoint(_signed_checkpoint(), _signer().verifier(), expected_origin="other/log")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n", "leading zeros"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(ROOT).decode()}\n", "leading zeros"),
        (f"{ORIGIN}\n42\n!!notbase64!!\n", "not valid base64"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()[:-1]}\n", "not valid base64"),
        (f"{ORIGIN}\n{2**64}\n{base64.b64encode(ROOT).decode()}\n", "larger than 2"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "must be 32 bytes"),
        (f"{ORIGIN}\n42\n", "needs origin, tree size and root hash"),
        (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n\nx\n", "extension line is empty"),
    ],
)
def test_bad_checkpoint_bodies_are_rejected_even_when_signed(body: str, message: str) -> None:
    signer = _signer()
    with pytest.raises(NoteError, match=message):
        verify_checkpoint(sign_note(body, signer), signer.verifier())


def test_non_canonical_root_base64_is_rejected() -> None:
    encoded = base64.b64encode(ROOT).decode()  # 44 chars, last data char carries 2 spare bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    spare = alphabet[alphabet.index(encoded[42]) ^ 1]
    with pytest.raises(NoteError, match="not canonical"):
        Checkpoint.parse(f"{ORIGIN}\n1\n{encoded[:42]}{spare}=\n")


def test_bad_inputs_to_sign_and_keys() -> None:
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("no newline", _signer())
    for bad in ("", "has space", "has+plus", "tab\there"):
        with pytest.raises(NoteError, match="key name"):
            Signer.generate(bad)
    with pytest.raises(NoteError, match="does not match"):
        Verifier.from_key_string(GO_VKEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(NoteError, match="unknown signature algorithm"):
        Verifier.from_key_string(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
    with pytest.raises(NoteError, match="start with 'PRIVATE"):
        Signer.from_key_string(GO_VKEY)
    assert "AYEK" not in repr(Signer.from_key_string(GO_SKEY))


# --- key files -------------------------------------------------------------------------------


def test_key_file_is_created_0600_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "ledger.key"
    signer = load_or_create_signer(path, ORIGIN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == signer.private_key_string() + "\n"
    again = load_or_create_signer(path, ORIGIN)
    assert verifier_key_string(again) == verifier_key_string(signer)
    assert load_signer(path).key_id == signer.key_id
    with pytest.raises(KeyFileError, match="not 'other/log'"):
        load_or_create_signer(path, "other/log")


def test_processes_racing_to_create_the_key_all_get_the_one_key(tmp_path: Path) -> None:
    """Server workers start together; each must load the same complete key, never half a file."""
    path = tmp_path / "ledger.key"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        key_ids = pool.starmap(_create_key_id, [(path, ORIGIN)] * 16)
    assert len(set(key_ids)) == 1
    assert load_signer(path).key_id == key_ids[0]
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.key"]  # no temporary files left


def _create_key_id(path: Path, name: str) -> int:
    return load_or_create_signer(path, name).key_id


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_exposed_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "ledger.key"
    load_or_create_signer(path, ORIGIN)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match="accessible by group or others"):
        load_signer(path)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_signer(path, ORIGIN)


def test_missing_or_corrupt_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_signer(tmp_path / "absent.key")
    path = tmp_path / "corrupt.key"
    path.write_text("PRIVATE+KEY+x+00000000+AAAA\n")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="not a valid signer key"):
        load_signer(path)
