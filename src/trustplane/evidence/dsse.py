"""DSSE envelopes (Dead Simple Signing Envelope v1) with Ed25519: sign, open, key ids.

The signature covers PAE(payloadType, payload), the spec's pre-authentication encoding, never
the JSON around it, so an envelope cannot be re-read as another type. The key id is the
lowercase hex SHA-256 of the public key's SubjectPublicKeyInfo (DER), which anyone can
recompute from the PEM file handed out with a bundle.

These few lines are written here rather than taken from securesystemslib so that the test
suite's check with securesystemslib is an independent implementation of the same spec.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)

from trustplane.audit.notes import Signer, Verifier

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


class EnvelopeError(ValueError):
    """The envelope is malformed, or no signature in it verifies with the key."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def public_key_of(verifier: Verifier) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(verifier.public_key)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_pem(key: Ed25519PublicKey) -> bytes:
    """The key as PEM SubjectPublicKeyInfo, the form ``openssl`` and other tools read."""
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_public_pem(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; anything else is an EnvelopeError."""
    try:
        key = load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise EnvelopeError("the key file is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise EnvelopeError("the key file holds a public key that is not Ed25519")
    return key


def sign(
    payload: bytes, signer: Signer, payload_type: str = IN_TOTO_PAYLOAD_TYPE
) -> dict[str, Any]:
    """An envelope of ``payload`` with one signature by ``signer``."""
    signature = signer.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {
                "keyid": key_id(public_key_of(signer.verifier())),
                "sig": base64.b64encode(signature).decode("ascii"),
            }
        ],
    }


@dataclass(frozen=True, slots=True)
class Opened:
    payload_type: str
    payload: bytes
    keyid: str


def open_envelope(envelope: Any, key: Ed25519PublicKey) -> Opened:
    """The payload, if a signature of the envelope verifies with ``key``; else EnvelopeError."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("the envelope is not a JSON object")
    payload_type, payload_b64 = envelope.get("payloadType"), envelope.get("payload")
    signatures = envelope.get("signatures")
    if not isinstance(payload_type, str) or not isinstance(payload_b64, str):
        raise EnvelopeError("the envelope lacks a payloadType or payload string")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("the envelope has no signatures")
    payload = _b64(payload_b64, "payload")
    message = pae(payload_type, payload)
    for entry in signatures:
        if not isinstance(entry, dict) or not isinstance(entry.get("sig"), str):
            raise EnvelopeError("a signature entry lacks its 'sig' string")
        try:
            key.verify(_b64(entry["sig"], "signature"), message)
        except InvalidSignature:
            continue
        return Opened(payload_type, payload, str(entry.get("keyid", "")))
    raise EnvelopeError("no signature of the envelope verifies with the given key")


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"the envelope's {what} is not valid base64") from exc
