"""C2SP signed notes and tlog checkpoints with Ed25519, so outsiders can check our tree heads.

Specs: https://c2sp.org/signed-note and https://c2sp.org/tlog-checkpoint. The key strings use
the same text forms as Go's ``golang.org/x/mod/sumdb/note``, so its tools accept our keys.
Pure: no I/O, no database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
SIG_PREFIX = "\u2014 "  # em dash, space
PRIVATE_PREFIX = "PRIVATE+KEY+"
HASH_SIZE = 32
_MAX_SIZE = 2**64 - 1
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key or checkpoint is malformed or does not verify; callers fail closed on it."""


def _b64decode(value: str, what: str) -> bytes:
    """Strict standard base64: alphabet, padding and canonical form, so one value has one text."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != value:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_text_chars(text: str, what: str) -> None:
    """Valid UTF-8 and no ASCII control character other than newline, as the spec demands."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NoteError(f"{what} is not valid UTF-8") from exc
    for index, char in enumerate(text):
        if char < " " and char != "\n":
            raise NoteError(f"{what} has control character {ord(char):#04x} at offset {index}")


def check_key_name(name: str) -> None:
    """Key names are non-empty, with no spaces and no '+', so key strings split unambiguously."""
    _check_text_chars(name, "key name")
    if not name or "+" in name or any(char.isspace() for char in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> int:
    """The 32-bit key ID: SHA-256(name || 0x0A || 0x01 || public key), first 4 bytes, big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def _split_key(value: str, what: str) -> tuple[str, int, bytes]:
    """Split ``name+hexid+base64(0x01 || key)`` and check its shape (not yet the ID)."""
    name, _, rest = value.partition("+")
    hex_id, _, data = rest.partition("+")
    check_key_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise NoteError(f"{what} key ID must be 8 lowercase hex digits")
    raw = _b64decode(data, f"{what} key data")
    if not raw or raw[0] != ALG_ED25519:
        raise NoteError(f"{what} has an unknown signature algorithm (only Ed25519, 0x01)")
    if len(raw) != 33:
        raise NoteError(f"{what} Ed25519 key must be 32 bytes, got {len(raw) - 1}")
    return name, int(hex_id, 16), raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks signatures on notes."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @classmethod
    def from_key_string(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex id>+<base64(0x01 || key)>``; the ID must match the key."""
        name, claimed, public = _split_key(vkey, "verifier key")
        verifier = cls(name, public)
        if verifier.key_id != claimed:
            raise NoteError(f"verifier key ID {claimed:08x} does not match its key")
        return verifier

    def key_string(self) -> str:
        """The public verifier key string to hand to auditors and witnesses."""
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Signer:
    """A named Ed25519 private key; its repr never shows the key."""

    __slots__ = ("_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = Verifier(name, public)
        self._key = private_key

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        if len(seed) != 32:
            raise NoteError("Ed25519 seed must be 32 bytes")
        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_key_string(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`` and check the ID."""
        if not skey.startswith(PRIVATE_PREFIX):
            raise NoteError("signer key must start with 'PRIVATE+KEY+'")
        name, claimed, seed = _split_key(skey.removeprefix(PRIVATE_PREFIX), "signer key")
        signer = cls.from_seed(name, seed)
        if signer.key_id != claimed:
            raise NoteError(f"signer key ID {claimed:08x} does not match its key")
        return signer

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    def verifier(self) -> Verifier:
        return self._verifier

    def private_key_string(self) -> str:
        """The secret key file form; whoever holds it can sign as this log."""
        seed = self._key.private_bytes_raw()
        return f"{PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{_b64(bytes([ALG_ED25519]) + seed)}"

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"Signer({self.name!r}, key_id={self.key_id:08x})"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the raw Ed25519 signature."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        payload = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIG_PREFIX}{self.name} {_b64(payload)}\n"


def _check_note_text(text: str) -> None:
    _check_text_chars(text, "note text")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")


def sign_note(text: str, *signers: Signer) -> str:
    """Sign ``text`` (which must end in a newline) and return the signed note."""
    _check_note_text(text)
    if not signers:
        raise NoteError("at least one signer is required")
    if len({(s.name, s.key_id) for s in signers}) != len(signers):
        raise NoteError("the same key is given twice")
    message = text.encode("utf-8")
    lines = [NoteSignature(s.name, s.key_id, s.sign(message)).line() for s in signers]
    return text + "\n" + "".join(lines)


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"signature line does not start with an em dash and a space: {line!r}")
    name, sep, data = line.removeprefix(SIG_PREFIX).partition(" ")
    if not sep or not data:
        raise NoteError(f"signature line has no signature: {line!r}")
    check_key_name(name)
    raw = _b64decode(data, f"signature of {name}")
    if len(raw) < 5:
        raise NoteError(f"signature of {name} is too short")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, checking only the syntax."""
    _check_text_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("note has no signature lines")
    if not block.endswith("\n"):
        raise NoteError("note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line) for line in lines]


def _index(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if known.setdefault(ident, verifier) != verifier:
            raise NoteError(f"ambiguous key {ident[0]}+{ident[1]:08x}: two verifiers share it")
    return known


def open_note(note: str, verifiers: Iterable[Verifier]) -> tuple[str, list[NoteSignature]]:
    """Verify ``note`` against known keys and return its text and verified signatures.

    Signatures from unknown keys (name and ID not both known) are ignored, every signature
    from a known key must verify, and at least one must be present.
    """
    text, signatures = parse_note(note)
    known = _index(verifiers)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(message, sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        if all((v.name, v.key_id) != (sig.name, sig.key_id) for v in verified):
            verified.append(sig)
    if not verified:
        found = ", ".join(sorted({f"{s.name}+{s.key_id:08x}" for s in signatures}))
        raise NoteError(f"note has no signature from a known key (found {found})")
    return text, verified


def _check_line(value: str, what: str) -> None:
    if not value:
        raise NoteError(f"checkpoint {what} is empty")
    if "\n" in value:
        raise NoteError(f"checkpoint {what} contains a newline")
    _check_text_chars(value, f"checkpoint {what}")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint body: origin, tree size, RFC 6962 root hash, optional extensions."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if type(self.size) is not int or not 0 <= self.size <= _MAX_SIZE:
            raise NoteError("checkpoint tree size must be an integer in 0..2^64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise NoteError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        for line in self.extensions:
            _check_line(line, "extension line")

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly: one text, one checkpoint."""
        _check_note_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint needs origin, tree size and root hash lines")
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size):
            raise NoteError(f"checkpoint tree size {size!r} is not a decimal without leading zeros")
        if int(size) > _MAX_SIZE:
            raise NoteError("checkpoint tree size is larger than 2^64-1")
        root_hash = _b64decode(root, "checkpoint root hash")
        return cls(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The signed note of ``checkpoint``, ready to publish."""
    return sign_note(checkpoint.to_text(), signer)


def verify_checkpoint(
    note: str, verifier: Verifier, expected_origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint with the log's key and, if given, its expected origin."""
    text, _ = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(text)
    if expected_origin is not None and checkpoint.origin != expected_origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r}, expected {expected_origin!r}")
    return checkpoint
