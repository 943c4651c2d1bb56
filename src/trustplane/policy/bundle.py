"""A policy bundle: ``.rego`` files plus an optional ``data.json``, named by its digest.

Pure: no database, no engine. The digest is ``sha256:`` over a canonical listing of the files
(sorted by path; each line ``path NUL sha256(content) LF``), so the same directory always has
the same digest whatever the file system's order or timestamps.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

DATA_FILE = "data.json"
MAX_FILES = 200
MAX_BYTES = 2_000_000
DEFAULT_DIR = Path(__file__).parent / "bundles" / "default"

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


class BundleError(ValueError):
    """The files do not form a bundle (names, sizes, encodings, data.json)."""


@dataclass(frozen=True)
class Bundle:
    """The files of a bundle, keyed by relative POSIX path."""

    files: Mapping[str, str]
    data: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def digest(self) -> str:
        return digest_of(self.files)

    @property
    def modules(self) -> dict[str, str]:
        return {p: s for p, s in sorted(self.files.items()) if p.endswith(".rego")}

    def tests(self) -> list[str]:
        """Every ``test_*`` rule as ``package.rule``, in file order (the Rego convention)."""
        found: list[str] = []
        for source in self.modules.values():
            package = _PACKAGE.search(source)
            if package is None:
                continue
            for name in _TEST_RULE.findall(source):
                qualified = f"{package.group(1)}.{name}"
                if qualified not in found:
                    found.append(qualified)
        return found


def digest_of(files: Mapping[str, str]) -> str:
    listing = hashlib.sha256()
    for path in sorted(files):
        content = hashlib.sha256(files[path].encode("utf-8")).hexdigest()
        listing.update(f"{path}\0{content}\n".encode())
    return "sha256:" + listing.hexdigest()


def from_files(files: Mapping[str, str]) -> Bundle:
    """Validate names, sizes and ``data.json``; raises :class:`BundleError` with the reason."""
    if not files:
        raise BundleError("a bundle needs at least one .rego file")
    if len(files) > MAX_FILES:
        raise BundleError(f"a bundle holds at most {MAX_FILES} files")
    if sum(len(s.encode("utf-8")) for s in files.values()) > MAX_BYTES:
        raise BundleError(f"a bundle holds at most {MAX_BYTES} bytes")
    for path in files:
        _check_path(path)
    if not any(p.endswith(".rego") for p in files):
        raise BundleError("a bundle needs at least one .rego file")
    data: dict[str, Any] = {}
    if DATA_FILE in files:
        try:
            loaded = json.loads(files[DATA_FILE])
        except json.JSONDecodeError as exc:
            raise BundleError(f"{DATA_FILE}: {exc.msg} at line {exc.lineno}") from exc
        if not isinstance(loaded, dict):
            raise BundleError(f"{DATA_FILE} must hold a JSON object")
        data = loaded
    return Bundle(dict(files), data)


def _check_path(path: str) -> None:
    pure = PurePosixPath(path)
    if (
        not path
        or pure.is_absolute()
        or ".." in pure.parts
        or "\\" in path
        or str(pure) != path
        or not (path.endswith(".rego") or path == DATA_FILE)
    ):
        raise BundleError(
            f"'{path}': a bundle holds only relative .rego paths and a top-level {DATA_FILE}"
        )


def from_directory(directory: Path) -> Bundle:
    """Read a bundle from disk: every ``*.rego`` under ``directory`` and its ``data.json``."""
    if not directory.is_dir():
        raise BundleError(f"'{directory}' is not a directory")
    files: dict[str, str] = {}
    for path in sorted(directory.rglob("*.rego")):
        if path.is_file():
            files[path.relative_to(directory).as_posix()] = _read(path)
    data = directory / DATA_FILE
    if data.is_file():
        files[DATA_FILE] = _read(data)
    return from_files(files)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"'{path.name}' is not UTF-8 text") from exc


def default() -> Bundle:
    """The bundle that ships with Trustplane (active in a tenant until another is activated)."""
    return from_directory(DEFAULT_DIR)
