"""Offline verification of a ledger export: only the files, no database, no server.

The verifier hashes every line of ``events.jsonl`` (leaf i = line i without its newline),
rebuilds the RFC 9162 tree in one streaming pass and keeps the root of every prefix that a
checkpoint (the latest, a stored one, a witnessed one) speaks about. A signed checkpoint whose
root is the root of the first ``size`` events is consistent with the export: no proof needed.

Each line must be UTF-8 with ``"seq"`` equal to its index and ``"tenant"`` equal to the
origin's tenant, read by an exact parse of the event's canonical tail. The full JSON parse and
RFC 8785 re-encoding of every line (``strict``) costs several times more, so by default it runs
only over the leaves a failure points at, to name the first bad one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from trustplane.audit import merkle
from trustplane.audit.canonical import canonical_json
from trustplane.audit.notes import Checkpoint, NoteError, Verifier, parse_note, verify_checkpoint

EVENTS, CHECKPOINT, PUBLIC_KEY, CHECKPOINTS = (
    "events.jsonl",
    "checkpoint",
    "public.key",
    "checkpoints",
)
_READ_BYTES = 1 << 22
_SHOWN = 10  # checkpoint failures listed one by one; the rest are counted
# The canonical tail of a version 1 event: sorted keys put "seq", the flat "target" object,
# "tenant", "time" and "v" last. In a valid JSON line a match ending at the newline is the
# top-level object's own "seq" (the '"' after its ',' must open a key, and the braces after
# it balance). Lines of any other shape get the full check.
_TAIL = (
    rb',"seq":(0|[1-9][0-9]{0,15}),"target":\{[^{}\[\]\n]*\},"tenant":%s,'
    rb'"time":"[^"\\\n]*","v":1\}\n'
)
_ANY_STRING = rb'"[^"\\\n]*"'
_ORIGIN = re.compile(r".+/ledger/([A-Za-z0-9_.-]+)")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_NON_BMP = re.compile(rb"[\xf0-\xf4]")  # sort_keys orders by code point, JCS by UTF-16 unit


class UnreadableExport(Exception):
    """The export folder or the witness file cannot be read at all (a usage error)."""


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    events: int
    root: str  # base64 RFC 9162 root of every line of events.jsonl
    origin: str | None
    strict: bool
    checked_checkpoints: list[int]
    witnessed_checkpoints: list[int]
    failures: list[str]  # the first names the first bad leaf, else the first failing checkpoint
    first_bad_index: int | None
    failing_checkpoint: int | None
    suspect_range: tuple[int, int] | None  # leaves [start, stop) where a change must lie

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PrefixTree:
    """Leaf hashes in, RFC 9162 roots of chosen prefix sizes out, in O(log n) memory."""

    def __init__(self, marks: Iterable[int]) -> None:
        self.size = 0
        self.roots: dict[int, bytes] = {}
        self._marks = sorted(set(marks), reverse=True)
        self._stack: list[tuple[int, bytes]] = []  # perfect subtrees (level, hash), largest first
        self._record()

    def extend(self, hashes: list[bytes]) -> None:
        done = 0
        while done < len(hashes):
            stop = len(hashes)
            if self._marks and self._marks[-1] - self.size < stop - done:
                stop = done + self._marks[-1] - self.size
            self._add(hashes, done, stop)
            done = stop
            self._record()

    def root(self) -> bytes:
        if not self._stack:
            return merkle.EMPTY_ROOT
        result = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            result = merkle.node_hash(left, result)
        return result

    def _record(self) -> None:
        while self._marks and self._marks[-1] <= self.size:
            if self._marks.pop() == self.size:
                self.roots[self.size] = self.root()

    def _add(self, hashes: list[bytes], start: int, stop: int) -> None:
        """Append hashes[start:stop] as aligned perfect subtrees, merged like a binary counter."""
        while start < stop:
            level = (stop - start).bit_length() - 1
            if self.size:
                level = min(level, (self.size & -self.size).bit_length() - 1)
            width = 1 << level
            digest = merkle.root_from_leaf_hashes(hashes[start : start + width])
            while self._stack and self._stack[-1][0] == level:
                digest, level = merkle.node_hash(self._stack.pop()[1], digest), level + 1
            self._stack.append((level, digest))
            start, self.size = start + width, self.size + width


# One line in full: valid UTF-8 JSON, the right seq and tenant, RFC 8785 canonical form.


class _NeedsJcs(Exception):
    """A float, a large integer or a non-BMP character: only the RFC 8785 encoder decides."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _small_int(text: str) -> int:
    if len(text) > 15:
        raise _NeedsJcs
    return int(text)


def _float(text: str) -> float:
    raise _NeedsJcs


def _jcs_int(text: str) -> int | float:
    """JSON numbers are IEEE doubles (RFC 8785): a large integer is the double it denotes."""
    value = int(text)
    return value if abs(value) < 2**53 else float(value)


_DECODER = json.JSONDecoder(parse_float=_float, parse_int=_small_int, parse_constant=_no_constant)


def line_problem(index: int, line: bytes, tenant: str | None) -> str | None:
    """What is wrong with one event line, or None. Without floats, large integers or non-BMP
    characters the standard library's encoder gives the RFC 8785 bytes; else rfc8785 decides."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte {exc.start} of the line)"
    try:
        try:
            value, slow = _DECODER.decode(text), bool(_NON_BMP.search(line))
        except _NeedsJcs:
            value = json.loads(text, parse_int=_jcs_int, parse_constant=_no_constant)
            slow = True
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    if not isinstance(value, dict):
        return "not a JSON object"
    seq = value.get("seq")
    if type(seq) is not int or seq != index:
        return f"seq is {seq!r}, expected {index}: a line was deleted, inserted or moved here"
    if tenant is not None and value.get("tenant") != tenant:
        return f"tenant is {value.get('tenant')!r}, expected {tenant!r} from the origin"
    try:
        canonical = canonical_json(value) == line if slow else _ENCODER.encode(value) == text
    except ValueError:
        canonical = False
    return None if canonical else "not in RFC 8785 canonical form"


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _batches(path: Path) -> Iterator[tuple[bytes, bool]]:
    """Runs of whole lines, each ending in a newline, then any unterminated rest."""
    with path.open("rb") as handle:
        rest = b""
        while block := handle.read(_READ_BYTES):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut], True
        if rest:
            yield rest, False


@dataclass
class _Scan:
    """One streaming pass: leaf hashes into the tree, and the first bad line, if any."""

    tenant: str | None
    strict: bool
    count: int = 0
    terminated: bool = True
    bad: tuple[int, str] | None = None

    def run(self, path: Path, tree: PrefixTree) -> None:
        known = self.tenant is not None
        tail = re.compile(
            _TAIL % (re.escape(json.dumps(self.tenant).encode()) if known else _ANY_STRING)
        )
        sha256 = hashlib.sha256
        for chunk, terminated in _batches(path):
            leaves = chunk.replace(b"\n", b"\n\x00").split(b"\n")  # 0x00 || line, but the first
            leaves[0] = b"\x00" + leaves[0]
            if terminated:
                leaves.pop()
            tree.extend([sha256(leaf).digest() for leaf in leaves])
            if self.bad is None and not (terminated and self._fast(tail, chunk, len(leaves))):
                self._each(tail, chunk.split(b"\n")[: len(leaves)])
            self.count += len(leaves)
            self.terminated = terminated

    def _fast(self, tail: re.Pattern[bytes], chunk: bytes, n: int) -> bool:
        """Whether a whole run passes at once: UTF-8, seq 0, 1, 2... and the tenant."""
        if self.strict or not (chunk.isascii() or _utf8(chunk)):
            return False
        return tail.findall(chunk) == [b"%d" % i for i in range(self.count, self.count + n)]

    def _each(self, tail: re.Pattern[bytes], lines: list[bytes]) -> None:
        for i, line in enumerate(lines, start=self.count):
            match = None if self.strict else tail.search(line + b"\n")
            if match and int(match[1]) == i and _utf8(line):
                continue
            if (problem := line_problem(i, line, self.tenant)) is not None:
                self.bad = (i, problem)
                return

    def recheck(self, path: Path, start: int, stop: int) -> None:
        """Fully check leaves [start, stop), to find a bad line the fast pass let through."""
        index = 0
        for chunk, terminated in _batches(path):
            lines = chunk.split(b"\n")[: -1 if terminated else None]
            for i in range(max(start, index), min(stop, index + len(lines))):
                if (problem := line_problem(i, lines[i - index], self.tenant)) is not None:
                    self.bad = (i, problem)
                    return
            index += len(lines)
            if index >= stop:
                return


# Checkpoints: the latest, the stored ones, the witnessed ones (shared with the self-check).


@dataclass
class Claim:
    """A checkpoint someone kept (export, database, witness); ``root`` is set once it verified."""

    source: str
    size: int | None
    origin: str | None = None
    root: bytes | None = None
    problem: str | None = None

    def describe(self) -> str:
        where = self.source if self.size is None else f"{self.source} (size {self.size})"
        return f"{where}: {self.problem}"


def read_claim(
    note: str | None, source: str, verifier: Verifier | None, origin: str | None, size: int | None
) -> Claim:
    """Check a checkpoint note's signature, origin (if given) and size (if known). Without a
    verifier the root is taken unverified, for a self-check that has no key."""
    if note is None:
        return Claim(source, size, problem="missing or not UTF-8 text")
    try:
        body = Checkpoint.parse(parse_note(note)[0])  # unverified, only to name the size
    except NoteError as exc:
        return Claim(source, size, problem=f"not a checkpoint note ({exc})")
    claim = Claim(source, body.size if size is None else size, body.origin)
    try:
        if verifier is not None:
            verify_checkpoint(note, verifier, origin)
        elif origin is not None and body.origin != origin:
            raise NoteError(f"checkpoint origin {body.origin!r}, expected {origin!r}")
    except NoteError as exc:
        claim.problem = f"does not verify with the log's key ({exc})"
    else:
        if claim.size != body.size:
            claim.problem = f"its note is for size {body.size}, not {claim.size}"
        else:
            claim.root = body.root_hash
    return claim


def witness_claims(lines: Iterable[str], verifier: Verifier | None, origin: str) -> list[Claim]:
    """The checkpoints of ``origin`` among witness file lines ``{"origin", "size", "note"}``."""
    claims = []
    for number, line in enumerate(lines, start=1):
        source = f"witness line {number}"
        try:
            entry = json.loads(line) if line.strip() else {"origin": None}
            if entry["origin"] != origin:
                continue
            size, note = entry["size"], entry["note"]
            if type(size) is not int or size < 0 or not isinstance(note, str):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            claims.append(Claim(source, None, problem="not a witness entry"))
            continue
        claims.append(read_claim(note, source, verifier, origin, size))
    return claims


def judge(claims: list[Claim], roots: dict[int, bytes], count: int) -> tuple[int, int] | None:
    """Compare each verified checkpoint with the events; return the first suspect leaf range."""
    differ = []
    for claim in claims:
        if claim.root is None or claim.size is None:
            continue
        if claim.size > count:
            claim.problem = f"covers {claim.size} events, only {count} are here: history was cut"
        elif roots[claim.size] != claim.root:
            differ.append(claim)
            claim.problem = "its root differs"  # refined below; excluded from the good sizes
    ranges = [(_good_below(claims, c.size - 1), c.size) for c in differ if c.size]
    for claim, (start, stop) in zip(differ, ranges, strict=True):
        claim.problem = (
            f"its root is not the root of the first {stop} events: a leaf in [{start}, {stop})"
            " was changed, or events were removed or added"
        )
    return min(ranges, key=lambda r: r[1], default=None)


def _good_below(claims: list[Claim], stop: int) -> int:
    """The largest size up to ``stop`` whose verified checkpoint matched the events, or 0."""
    sizes = [c.size for c in claims if c.root is not None and c.problem is None and c.size]
    return max((size for size in sizes if size <= stop), default=0)


# The export folder


def verify_export(
    directory: Path, *, witness: Path | None = None, key: str | None = None, strict: bool = False
) -> VerifyReport:
    """Verify an export folder; ``key`` pins the verifier key instead of trusting public.key.

    Raises UnreadableExport if the folder or the witness file cannot be read at all; every
    other defect is a failure in the report.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise UnreadableExport(f"{folder} is not a readable export folder")
    failures: list[str] = []
    verifier = _load_verifier(folder, key, failures)
    latest = read_claim(_read_text(folder / CHECKPOINT), CHECKPOINT, verifier, None, None)
    shape = _ORIGIN.fullmatch(latest.origin or "")
    if latest.origin is not None and shape is None and latest.problem is None:
        latest.problem = f"origin {latest.origin!r} is not '<name>/ledger/<tenant>'"
        latest.root = None
    origin = latest.origin
    claims = [latest, *_stored(folder, verifier, origin), *_witnessed(witness, verifier, origin)]
    tree = PrefixTree(c.size for c in claims if c.root is not None and c.size is not None)
    scan = _Scan(shape[1] if shape else None, strict)
    try:
        scan.run(folder / EVENTS, tree)
    except OSError as exc:
        failures.append(f"{EVENTS}: cannot be read ({exc.strerror or exc})")
    bad_lines = _line_defects(scan, latest.size if latest.root is not None else None)
    suspect = judge(claims, tree.roots, scan.count)
    if not strict and (bad_lines or suspect):  # name the first bad leaf if a full check can
        stop = min([scan.count, *(i for i, _ in bad_lines), *(suspect[1:] if suspect else ())])
        scan.bad = None
        scan.recheck(folder / EVENTS, _good_below(claims, stop), stop)
        bad_lines += [scan.bad] if scan.bad else []
    return _report(scan, tree, claims, failures, sorted(set(bad_lines)), suspect)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _load_verifier(folder: Path, pinned: str | None, failures: list[str]) -> Verifier | None:
    """The key that checks the signatures: ``pinned`` if given (public.key must then match),
    else public.key itself. None, with the failure noted, when there is no usable key."""
    text = _read_text(folder / PUBLIC_KEY)
    if pinned is not None:
        try:
            verifier = Verifier.from_key_string(pinned.strip())
        except NoteError as exc:
            failures.append(f"the pinned key is not a verifier key ({exc})")
            return None
        if text is None:
            failures.append(f"{PUBLIC_KEY}: missing or unreadable")
        elif text.strip() != verifier.key_string():
            failures.append(f"{PUBLIC_KEY}: not the expected key {verifier.key_string()}")
        return verifier
    if text is None:
        failures.append(f"{PUBLIC_KEY}: missing or unreadable")
        return None
    try:
        return Verifier.from_key_string(text.strip())
    except NoteError as exc:
        failures.append(f"{PUBLIC_KEY}: not a verifier key ({exc})")
        return None


def _stored(folder: Path, verifier: Verifier | None, origin: str | None) -> list[Claim]:
    directory = folder / CHECKPOINTS
    if not directory.is_dir():
        return [Claim(CHECKPOINTS, None, problem="missing folder")]
    claims = []
    for path in directory.iterdir():
        source = f"{CHECKPOINTS}/{path.name}"
        if re.fullmatch(r"0|[1-9][0-9]{0,19}", path.name):
            claims.append(read_claim(_read_text(path), source, verifier, origin, int(path.name)))
        else:
            claims.append(Claim(source, None, problem="not named by a tree size"))
    return claims


def _witnessed(path: Path | None, verifier: Verifier | None, origin: str | None) -> list[Claim]:
    if path is None:
        return []
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableExport(f"cannot read the witness file {path}: {exc}") from exc
    return [] if origin is None else witness_claims(lines, verifier, origin)


def _line_defects(scan: _Scan, size: int | None) -> list[tuple[int, str]]:
    defects = [scan.bad] if scan.bad else []
    if not scan.terminated:
        defects.append((scan.count - 1, "no newline at its end: the file was cut short"))
    if size is not None and scan.count < size:
        defects.append((scan.count, f"missing: {EVENTS} ends here, the checkpoint covers {size}"))
    elif size is not None and scan.count > size:
        defects.append((size, f"extra line beyond the {size} events the checkpoint covers"))
    return defects


def _report(
    scan: _Scan,
    tree: PrefixTree,
    claims: list[Claim],
    failures: list[str],
    bad_lines: list[tuple[int, str]],
    suspect: tuple[int, int] | None,
) -> VerifyReport:
    failed = sorted((c for c in claims if c.problem), key=lambda c: (c.size is None, c.size or 0))
    messages = [f"leaf {i} (line {i + 1} of {EVENTS}): {problem}" for i, problem in bad_lines]
    messages += [claim.describe() for claim in failed[:_SHOWN]]
    messages += [f"{len(failed) - _SHOWN} more checkpoints failed"] if len(failed) > _SHOWN else []
    good = [(c.size, c.source) for c in claims if c.size is not None and not c.problem]
    return VerifyReport(
        ok=not (messages or failures),
        events=scan.count,
        root=base64.b64encode(tree.root()).decode("ascii"),
        origin=claims[0].origin,
        strict=scan.strict,
        checked_checkpoints=sorted({size for size, src in good if not src.startswith("witness")}),
        witnessed_checkpoints=sorted({size for size, src in good if src.startswith("witness")}),
        failures=messages + failures,
        first_bad_index=bad_lines[0][0] if bad_lines else None,
        failing_checkpoint=next((c.size for c in failed if c.size is not None), None),
        suspect_range=suspect,
    )
