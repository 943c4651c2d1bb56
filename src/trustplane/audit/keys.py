"""The ledger's checkpoint signing key on disk: created private, refused when exposed.

The file holds one line, the signer key string (``PRIVATE+KEY+<name>+<id>+<data>``) in the
form Go's ``sumdb/note`` tools read, so an operator can inspect or reuse it with them.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from trustplane.audit.notes import NoteError, Signer

_MAX_KEY_FILE_BYTES = 4096


class KeyFileError(Exception):
    """The key file is missing, malformed, exposed to other users, or for another key name."""


def load_or_create_signer(path: Path, name: str) -> Signer:
    """Load the signer at ``path``, or create a new Ed25519 key there if there is none.

    An existing key must carry ``name``: silently signing as another log would break every
    verifier that pinned the old key.
    """
    try:
        return _create(path, name)
    except FileExistsError:
        pass
    signer = load_signer(path)
    if signer.name != name:
        raise KeyFileError(f"key file {path} holds a key named {signer.name!r}, not {name!r}")
    return signer


def load_signer(path: Path) -> Signer:
    """Read a signer key file, refusing one that group or others can access."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError as exc:
        raise KeyFileError(f"key file {path} does not exist") from exc
    with os.fdopen(fd, "rb") as handle:
        _check_private(path, os.fstat(handle.fileno()))
        raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
    if len(raw) > _MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"key file {path} is too large to be a signer key")
    try:
        return Signer.from_key_string(raw.decode("utf-8").strip())
    except (UnicodeDecodeError, NoteError) as exc:
        raise KeyFileError(f"key file {path} is not a valid signer key: {exc}") from exc


def verifier_key_string(signer: Signer) -> str:
    """The public verifier key for ``signer``, to publish for auditors and witnesses."""
    return signer.verifier().key_string()


def _check_private(path: Path, info: os.stat_result) -> None:
    if os.name != "posix":
        return  # POSIX modes carry no meaning elsewhere; rely on the OS's access control
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} is accessible by group or others (mode {mode:04o}); "
            f"restrict it with: chmod 600 {path}"
        )


def _create(path: Path, name: str) -> Signer:
    """Create the key file with mode 0600 from the first byte on, and publish it atomically.

    The key is written to a private temporary file and hard-linked into place, so a process
    racing this one (several server workers starting at once) sees either no file or a
    complete one, and exactly one key wins.
    """
    signer = Signer.generate(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        raise FileExistsError(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write((signer.private_key_string() + "\n").encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # raises FileExistsError when another process won
    finally:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
    return signer
