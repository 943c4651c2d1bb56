"""Deterministic content digests of model artifacts: one file or a directory tree.

* A file: ``sha256:`` + the SHA-256 of its bytes (the same as ``sha256sum FILE``).
* A directory: every regular file below it, at any depth, is listed as one manifest line
  ``<sha256 hex of its bytes><two spaces><path relative to the directory>\\n``, the path in
  POSIX form (``/`` separators, no leading ``./``); lines are sorted by the UTF-8 bytes of the
  path. The digest is ``sha256:`` + the SHA-256 of the manifest. This is exactly what
  ``cd DIR && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum |
  sha256sum`` prints, so anyone can check a digest without Trustplane.
* Ignored: file modes, owners, timestamps, empty directories. A symbolic link to a file is
  hashed as the file it points to; a link to a directory is refused (it could loop or leave
  the tree), as are file names holding a newline or a backslash (``sha256sum`` escapes them).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


class ArtifactError(ValueError):
    """The path cannot be digested (missing, empty, or holding something we refuse)."""


def file_sha256(path: Path) -> str:
    """The lowercase hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(root: Path) -> bytes:
    """The sorted ``sha256sum``-style manifest of every regular file under ``root``."""
    entries: list[tuple[bytes, str]] = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink() and path.is_dir():
            raise ArtifactError(f"'{relative}' is a link to a directory; refusing to follow it")
        if path.is_dir():
            continue
        if not path.is_file():
            raise ArtifactError(f"'{relative}' is not a regular file")
        if "\n" in relative or "\\" in relative:
            raise ArtifactError(f"file name {relative!r} holds a newline or a backslash")
        entries.append((relative.encode("utf-8"), f"{file_sha256(path)}  {relative}\n"))
    if not entries:
        raise ArtifactError(f"directory '{root}' holds no file")
    return "".join(line for _, line in sorted(entries)).encode("utf-8")


def artifact_digest(path: str | Path) -> str:
    """``sha256:<hex>`` of a file or a directory tree (see the module docstring)."""
    target = Path(path)
    if not target.exists():
        raise ArtifactError(f"'{path}' does not exist")
    if target.is_dir():
        return "sha256:" + hashlib.sha256(manifest(target)).hexdigest()
    if not target.is_file():
        raise ArtifactError(f"'{path}' is neither a file nor a directory")
    return "sha256:" + file_sha256(target)
