"""Export, offline verification and the server self-check: tampering is always caught and named.

Every mutation of an export (a flipped bit anywhere, lines deleted, inserted, swapped, cut or
added, checkpoints edited or re-signed, a replaced key, a rewritten history against a witness)
must fail verification and point at the first bad leaf or the first failing checkpoint. The
database half rewrites rows as the table owner with the insert-only triggers off, as a rogue
administrator could, and ``fsck`` must report it.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import bootstrap_tenant
from tests.tamper import triggers_off
from trustplane import audit as audit_package
from trustplane.audit import Origin, Target, merkle, record
from trustplane.audit.checkpoints import (
    create_checkpoint,
    list_checkpoints,
    origin_for,
    signer_from_settings,
)
from trustplane.audit.export import export_ledger
from trustplane.audit.fsck import FsckReport, fsck
from trustplane.audit.ledger import fetch_nodes
from trustplane.audit.notes import Checkpoint, Signer, parse_note, sign_checkpoint
from trustplane.audit.verify import PrefixTree, line_problem, verify_export
from trustplane.config import Settings
from trustplane.db.session import scope_to_tenant, unit_of_work
from trustplane.errors import InvalidInput
from trustplane.identity.actor import Actor

EXTRA_EVENTS = 6
Mutation = Callable[[Path], None]


@dataclass(frozen=True)
class Exported:
    tenant_id: str
    folder: Path
    size: int
    signer: Signer
    sizes: list[int]  # stored checkpoint sizes, one per size from the bootstrap on

    def copy(self, into: Path) -> Path:
        target = into / "export"
        shutil.copytree(self.folder, target)
        return target


def grow(factory: sessionmaker[Session], cfg: Settings, tenant_id: str, count: int) -> None:
    """``count`` more events, a signed checkpoint after each, so every size is pinned."""
    signer = signer_from_settings(cfg)
    actor = Actor.local_system(Origin("test-ledger"))
    for i in range(count):
        with unit_of_work(factory) as session:
            scope_to_tenant(session, tenant_id)
            record(session, actor, "test.ping", Target("test", str(i)), tenant_id=tenant_id)
        with unit_of_work(factory) as session:
            scope_to_tenant(session, tenant_id)
            create_checkpoint(session, tenant_id, signer, cfg.ledger_name)


def export(factory: sessionmaker[Session], cfg: Settings, tenant_id: str, folder: Path) -> int:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        result = export_ledger(
            session, tenant_id, signer_from_settings(cfg), cfg.ledger_name, folder
        )
    return result.size


@pytest.fixture(scope="module")
def exported(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Exported:
    tenant = bootstrap_tenant(session_factory)
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant.id)
        first = create_checkpoint(
            session, tenant.id, signer_from_settings(settings), settings.ledger_name
        ).size
    grow(session_factory, settings, tenant.id, EXTRA_EVENTS)
    folder = tmp_path_factory.mktemp("export") / "out"
    size = export(session_factory, settings, tenant.id, folder)
    sizes = list(range(first, size + 1))
    return Exported(tenant.id, folder, size, signer_from_settings(settings), sizes)


def lines_of(folder: Path) -> list[bytes]:
    return (folder / "events.jsonl").read_bytes().split(b"\n")[:-1]


def write_lines(folder: Path, lines: list[bytes]) -> None:
    (folder / "events.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


# The export itself


def test_export_writes_the_documented_files_and_verifies(
    exported: Exported, session_factory: sessionmaker[Session]
) -> None:
    folder = exported.folder
    with session_factory() as session:
        scope_to_tenant(session, exported.tenant_id)
        leaves = session.execute(
            text("SELECT leaf FROM audit_events WHERE tenant_id = :t ORDER BY seq"),
            {"t": exported.tenant_id},
        ).scalars()
        assert [leaf.encode() for leaf in leaves] == lines_of(folder)
    assert (folder / "events.jsonl").read_bytes().endswith(b"\n")
    assert (folder / "public.key").read_text() == exported.signer.verifier().key_string() + "\n"
    assert sorted(int(p.name) for p in (folder / "checkpoints").iterdir()) == exported.sizes
    body = Checkpoint.parse(parse_note((folder / "checkpoint").read_text())[0])
    assert body.origin == origin_for("trustplane", exported.tenant_id)
    assert body.size == exported.size == len(lines_of(folder))
    hashes = [merkle.leaf_hash(line) for line in lines_of(folder)]
    assert body.root_hash == merkle.root_from_leaf_hashes(hashes)
    for strict in (False, True):
        report = verify_export(folder, strict=strict)
        assert report.ok, report.failures
        assert (report.events, report.first_bad_index, report.failing_checkpoint) == (
            exported.size,
            None,
            None,
        )
        assert report.checked_checkpoints == exported.sizes


def test_export_refuses_a_folder_with_content(
    exported: Exported, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(InvalidInput, match="not an empty folder"):
        export(session_factory, settings, exported.tenant_id, exported.folder)


def test_export_stops_at_its_checkpoint_while_events_keep_coming(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trustplane.audit import checkpoints as checkpoints_module

    tenant = bootstrap_tenant(session_factory)
    original = checkpoints_module.fresh_checkpoint

    def then_more(*args: object, **kwargs: object) -> object:
        checkpoint = original(*args, **kwargs)  # type: ignore[arg-type]
        grow(session_factory, settings, tenant.id, 2)  # appended while the export runs
        return checkpoint

    monkeypatch.setattr(checkpoints_module, "fresh_checkpoint", then_more)
    size = export(session_factory, settings, tenant.id, tmp_path / "out")
    report = verify_export(tmp_path / "out")
    assert report.ok, report.failures
    assert report.events == size == len(lines_of(tmp_path / "out"))
    assert not (tmp_path / "out" / "checkpoints" / str(size + 1)).exists()


def test_export_in_the_callers_transaction(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tenant = bootstrap_tenant(session_factory)
    signer = signer_from_settings(settings)
    with unit_of_work(session_factory) as session:  # a writer signs in its own transaction
        scope_to_tenant(session, tenant.id)
        export_ledger(session, tenant.id, signer, settings.ledger_name, tmp_path / "a")
    assert verify_export(tmp_path / "a").ok
    with session_factory() as session:  # a reader must not carry an older snapshot
        scope_to_tenant(session, tenant.id)
        session.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="not yet in a transaction"):
            export_ledger(session, tenant.id, signer, settings.ledger_name, tmp_path / "b")


def test_verifier_needs_no_database_or_server_code() -> None:
    """verify.py imports the standard library and the pure audit modules, nothing else."""
    pure = {"trustplane.audit.merkle", "trustplane.audit.notes", "trustplane.audit.canonical"}
    for name in ("verify", "merkle", "notes", "canonical"):
        tree = ast.parse((Path(audit_package.__file__).parent / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                allowed = top in sys.stdlib_module_names or top in ("cryptography", "rfc8785")
                assert allowed or module in pure or module == "trustplane.audit", (name, module)


# The streaming pieces, checked against the reference implementations


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    size=st.integers(0, 300),
    marks=st.lists(st.integers(0, 300), max_size=12),
    cuts=st.lists(st.integers(1, 40), max_size=10),
)
def test_prefix_tree_roots_match_the_rfc_roots(
    size: int, marks: list[int], cuts: list[int]
) -> None:
    hashes = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
    tree, done = PrefixTree(marks), 0
    for cut in [*cuts, size]:  # fed in uneven batches
        tree.extend(hashes[done : done + cut])
        done = min(size, done + cut)
    tree.extend(hashes[done:])
    assert tree.root() == merkle.root_from_leaf_hashes(hashes)
    assert tree.roots == {m: merkle.root_from_leaf_hashes(hashes[:m]) for m in marks if m <= size}


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans(), sort=st.booleans())
def test_line_checks_agree_with_rfc8785(value: Any, ascii_only: bool, sort: bool) -> None:
    event = {"seq": 0, "tenant": "ten_a", "payload": value}
    canonical = rfc8785.dumps(event)
    assert line_problem(0, canonical, "ten_a") is None
    other = json.dumps(event, ensure_ascii=ascii_only, sort_keys=sort, separators=(",", ":"))
    expected = None if other.encode() == canonical else "not in RFC 8785 canonical form"
    assert line_problem(0, other.encode(), "ten_a") == expected


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"seq":0,"tenant":"ten_a","x":9007199254740993}', "canonical"),
        (b'{"seq":0,"tenant":"ten_a","x":1.0}', "canonical"),
        (b'{"seq":0,"tenant":"ten_a","x":NaN}', "not valid JSON"),
        (b'{"seq":0,"seq":0,"tenant":"ten_a"}', "canonical"),
        (b'{"seq":0,"tenant":"ten_a","x":"\\ud800"}', "canonical"),
        (b'{"seq":0,"tenant":"ten_a","x":"\\u00e9"}', "canonical"),
        (b'{"seq":0,"tenant":"ten_a","\xef\xbc\x81":1,"\xf0\x9f\x98\x80":2}', "canonical"),
        (b'{"seq":true,"tenant":"ten_a"}', "seq is True"),
        (b'{"seq":0,"tenant":"ten_b"}', "tenant is 'ten_b'"),
        (b"[0]", "not a JSON object"),
        (b'{"seq":0,"tenant":"ten_\xff"}', "not valid UTF-8"),
    ],
)
def test_line_problems_are_named(line: bytes, problem: str) -> None:
    assert problem in (line_problem(0, line, "ten_a") or "")


def test_non_bmp_keys_sort_by_utf16_code_units() -> None:
    line = '{"seq":0,"tenant":"ten_a","\U0001f600":2,"\uff01":1}'.encode()  # U+1F600 < U+FF01
    assert line == rfc8785.dumps(json.loads(line))
    assert line_problem(0, line, "ten_a") is None


# Mutations of the export: each must fail and name the first bad leaf or checkpoint


def _delete(i: int) -> Mutation:
    return lambda f: write_lines(f, [x for k, x in enumerate(lines_of(f)) if k != i])


def _insert_copy(i: int) -> Mutation:
    return lambda f: write_lines(f, (lambda ls: [*ls[:i], ls[1], *ls[i:]])(lines_of(f)))


def _swap(i: int) -> Mutation:
    return lambda f: write_lines(
        f, (lambda ls: [*ls[:i], ls[i + 1], ls[i], *ls[i + 2 :]])(lines_of(f))
    )


def _cut(count: int) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / "events.jsonl"
        path.write_bytes(path.read_bytes()[:-count])

    return mutate


LINE_MUTATIONS: dict[str, tuple[Callable[[int], Mutation], Callable[[int], int]]] = {
    # name: (mutation given the export size n, the first bad leaf index given n)
    "line deleted": (lambda n: _delete(n - 3), lambda n: n - 3),
    "first line deleted": (lambda n: _delete(0), lambda n: 0),
    "line inserted": (lambda n: _insert_copy(n - 2), lambda n: n - 2),
    "lines swapped": (lambda n: _swap(2), lambda n: 2),
    "cut inside the last line": (lambda n: _cut(10), lambda n: n - 1),
    "last line cut off": (lambda n: lambda f: write_lines(f, lines_of(f)[:-1]), lambda n: n - 1),
    "extra line appended": (
        lambda n: lambda f: write_lines(f, [*lines_of(f), lines_of(f)[-1]]),
        lambda n: n,
    ),
    "whitespace added": (
        lambda n: (
            lambda f: write_lines(
                f,
                [
                    x.replace(b'":', b'": ', 1) if k == n - 4 else x
                    for k, x in enumerate(lines_of(f))
                ],
            )
        ),
        lambda n: n - 4,
    ),
}


@pytest.mark.parametrize("name", list(LINE_MUTATIONS))
@pytest.mark.parametrize("strict", [False, True])
def test_line_mutations_name_the_first_bad_leaf(
    exported: Exported, tmp_path: Path, name: str, strict: bool
) -> None:
    mutate, where = LINE_MUTATIONS[name]
    folder = exported.copy(tmp_path)
    mutate(exported.size)(folder)
    report = verify_export(folder, strict=strict)
    assert not report.ok
    assert report.first_bad_index == where(exported.size), report.failures
    assert report.failures[0].startswith(f"leaf {where(exported.size)} "), report.failures


def _edit(name: str, old: bytes, new: bytes) -> Mutation:
    def mutate(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes().replace(old, new, 1))

    return mutate


def _resign(folder: Path, name: str, signer: Signer) -> None:
    body = Checkpoint.parse(parse_note((folder / name).read_text())[0])
    (folder / name).write_text(sign_checkpoint(body, signer))


def test_an_early_canonical_edit_blames_every_checkpoint_from_leaf_0(
    exported: Exported, tmp_path: Path
) -> None:
    """A line still canonical and in place can only be located by the checkpoints: none of
    them matches, so each names the range from leaf 0, never a range a bad checkpoint vouched
    for."""
    folder = exported.copy(tmp_path)
    lines = lines_of(folder)
    victim = exported.sizes[0] - 1
    lines[victim] = lines[victim].replace(b'"action":"', b'"action":"x', 1)
    write_lines(folder, lines)
    report = verify_export(folder)
    assert not report.ok
    assert report.suspect_range == (0, exported.sizes[0])
    assert report.failing_checkpoint == exported.sizes[0]
    checkpoint_failures = [f for f in report.failures if "its root is not the root" in f]
    assert checkpoint_failures and all("[0, " in f for f in checkpoint_failures), report.failures


def test_an_invalid_pinned_key_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "public.key").write_text("trustplane+00000000+AAAA\n")
    report = verify_export(tmp_path, key="not-a-key+00000000+AAAA")
    assert not report.ok
    assert any("the pinned key is not a verifier key" in f for f in report.failures)


def test_checkpoint_body_edited(exported: Exported, tmp_path: Path) -> None:
    folder = exported.copy(tmp_path)
    size = exported.size
    _edit("checkpoint", f"\n{size}\n".encode(), f"\n{size - 1}\n".encode())(folder)
    report = verify_export(folder)
    assert not report.ok and report.failing_checkpoint == size - 1
    assert report.failures[0].startswith(f"checkpoint (size {size - 1}): does not verify")


def test_checkpoint_resigned_with_another_key(exported: Exported, tmp_path: Path) -> None:
    folder = exported.copy(tmp_path)
    _resign(folder, "checkpoint", Signer.generate("trustplane"))
    report = verify_export(folder)
    assert not report.ok and report.failing_checkpoint == exported.size
    assert "does not verify" in report.failures[0]


def test_stored_checkpoint_edited(exported: Exported, tmp_path: Path) -> None:
    folder = exported.copy(tmp_path)
    size = exported.sizes[2]
    note = (folder / "checkpoints" / str(size)).read_text()
    root = note.split("\n")[2]
    other = "A" + root[1:] if root[0] != "A" else "B" + root[1:]
    (folder / "checkpoints" / str(size)).write_text(note.replace(root, other))
    report = verify_export(folder)
    assert not report.ok and report.failing_checkpoint == size
    assert report.failures[0].startswith(f"checkpoints/{size} (size {size}): does not verify")


def test_public_key_replaced(exported: Exported, tmp_path: Path) -> None:
    folder = exported.copy(tmp_path)
    (folder / "public.key").write_text(Signer.generate("trustplane").verifier().key_string())
    report = verify_export(folder)
    assert not report.ok and report.failing_checkpoint == exported.sizes[0]
    assert "does not verify" in report.failures[0]


def test_a_pinned_key_refuses_a_consistently_resigned_export(
    exported: Exported, tmp_path: Path
) -> None:
    folder = exported.copy(tmp_path)
    forger = Signer.generate("trustplane")
    for path in [folder / "checkpoint", *(folder / "checkpoints").iterdir()]:
        _resign(folder, str(path.relative_to(folder)), forger)
    (folder / "public.key").write_text(forger.verifier().key_string() + "\n")
    assert verify_export(folder).ok  # self-consistent: only an outside anchor tells
    pinned = verify_export(folder, key=exported.signer.verifier().key_string())
    assert not pinned.ok
    assert any(f.startswith("public.key: not the expected key") for f in pinned.failures)


@settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0, max_value=2**40), bit=st.integers(0, 7))
def test_any_flipped_bit_is_caught_and_located(exported: Exported, position: int, bit: int) -> None:
    data = bytearray((exported.folder / "events.jsonl").read_bytes())
    position %= len(data)
    data[position] ^= 1 << bit
    leaf = data[:position].count(b"\n")  # the line holding the flipped byte
    with tempfile.TemporaryDirectory() as scratch:
        folder = exported.copy(Path(scratch))
        (folder / "events.jsonl").write_bytes(bytes(data))
        report = verify_export(folder)
    assert not report.ok
    if report.first_bad_index is not None:
        assert report.first_bad_index == leaf, report.failures
    else:
        assert report.suspect_range is not None, report.failures
        start, stop = report.suspect_range
        assert start <= leaf < stop and report.failing_checkpoint == stop, report.failures


# Witnesses: checkpoints kept outside the database


def witness_lines(exported: Exported, folder: Path) -> list[str]:
    origin = origin_for("trustplane", exported.tenant_id)
    notes = [(int(p.name), p.read_text()) for p in (folder / "checkpoints").iterdir()]
    return [
        json.dumps({"origin": origin, "size": size, "note": note}) for size, note in sorted(notes)
    ]


def rewrite_history(exported: Exported, folder: Path, leaf: int) -> None:
    """What a rogue administrator's database would export: leaf ``leaf`` rewritten, the tree
    rebuilt, the later checkpoints dropped and the server's key signing the new head."""
    lines = lines_of(folder)
    lines[leaf] = lines[leaf].replace(b'"test.ping"', b'"test.pong"')
    write_lines(folder, lines)
    for path in (folder / "checkpoints").iterdir():
        if int(path.name) > leaf:
            path.unlink()
    root = merkle.root_from_leaf_hashes(merkle.leaf_hash(x) for x in lines)
    origin = origin_for("trustplane", exported.tenant_id)
    note = sign_checkpoint(Checkpoint(origin, len(lines), root), exported.signer)
    (folder / "checkpoint").write_text(note)
    (folder / "checkpoints" / str(len(lines))).write_text(note)


def test_witnessed_checkpoints_verify(exported: Exported, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    other = json.dumps({"origin": "trustplane/ledger/ten_other", "size": 1, "note": "x"})
    witness.write_text("\n".join([other, *witness_lines(exported, exported.folder)]) + "\n")
    report = verify_export(exported.folder, witness=witness)
    assert report.ok, report.failures
    assert report.witnessed_checkpoints == exported.sizes


def test_a_rewritten_history_fails_against_the_witness(exported: Exported, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    witness.write_text("\n".join(witness_lines(exported, exported.folder)) + "\n")
    folder = exported.copy(tmp_path)
    leaf = exported.size - 2
    rewrite_history(exported, folder, leaf)
    assert verify_export(folder).ok  # hashes and signatures alone cannot tell
    report = verify_export(folder, witness=witness)
    assert not report.ok
    assert report.failing_checkpoint == leaf + 1 and report.suspect_range == (leaf, leaf + 1)
    assert report.failures[0].startswith(f"witness line {exported.sizes.index(leaf + 1) + 1} ")


def test_a_witnessed_size_beyond_the_export_means_truncation(
    exported: Exported, tmp_path: Path
) -> None:
    witness = tmp_path / "witness.jsonl"
    witness.write_text(witness_lines(exported, exported.folder)[-1] + "\n")
    folder = exported.copy(tmp_path)
    write_lines(folder, lines_of(folder)[:-1])
    for path in [folder / "checkpoints" / str(exported.size)]:
        path.unlink()
    shutil.copy(folder / "checkpoints" / str(exported.size - 1), folder / "checkpoint")
    assert verify_export(folder).ok
    report = verify_export(folder, witness=witness)
    assert not report.ok and report.failing_checkpoint == exported.size
    assert "history was cut" in report.failures[0]


# The self-check against the database


def ledger(factory: sessionmaker[Session], cfg: Settings, events: int) -> str:
    tenant = bootstrap_tenant(factory)
    grow(factory, cfg, tenant.id, events)
    return tenant.id


def check(factory: sessionmaker[Session], cfg: Settings, tenant_id: str, **kw: Any) -> FsckReport:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        return fsck(
            session,
            tenant_id,
            verifier=signer_from_settings(cfg).verifier(),
            origin=origin_for(cfg.ledger_name, tenant_id),
            **kw,
        )


def head_size(factory: sessionmaker[Session], tenant_id: str) -> int:
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        query = text("SELECT size FROM ledger_heads WHERE tenant_id = :t")
        return int(session.scalar(query, {"t": tenant_id}) or 0)


def stored_witness(factory: sessionmaker[Session], tenant_id: str) -> list[str]:
    """Witness lines for every checkpoint the database holds now."""
    with factory() as session:
        scope_to_tenant(session, tenant_id)
        rows = list_checkpoints(session, tenant_id, None, 1000)
    origin = origin_for("trustplane", tenant_id)
    return [json.dumps({"origin": origin, "size": r.size, "note": r.note}) for r in rows]


def test_fsck_passes_an_untouched_ledger(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    tenant_id = ledger(session_factory, settings, 5)
    witness = stored_witness(session_factory, tenant_id)
    report = check(session_factory, settings, tenant_id, witness_lines=witness)
    assert report.ok, report.problems
    assert report.events == report.head_size
    assert report.witnessed_checkpoints == report.checked_checkpoints
    assert len(report.checked_checkpoints) == 5


def test_fsck_names_a_leaf_edited_behind_the_triggers(
    session_factory: sessionmaker[Session], settings: Settings, backend: str, tmp_path: Path
) -> None:
    tenant_id = ledger(session_factory, settings, 5)
    size = head_size(session_factory, tenant_id)
    victim = size - 3
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant_id)
        with triggers_off(session, backend, "audit_events"):
            session.execute(
                text(
                    "UPDATE audit_events SET leaf = replace(leaf, 'test.ping', 'test.pong') "
                    "WHERE tenant_id = :t AND seq = :s"
                ),
                {"t": tenant_id, "s": victim},
            )
    report = check(session_factory, settings, tenant_id)
    assert not report.ok
    assert report.first_bad_index == victim
    assert report.failing_checkpoint == victim + 1
    assert f"event {victim}: its leaf does not hash" in report.problems[0]
    size_now = export(session_factory, settings, tenant_id, tmp_path / "out")
    assert size_now == size  # the head still signs the old root
    verified = verify_export(tmp_path / "out")
    assert not verified.ok and verified.suspect_range == (victim, victim + 1)


ZEROS = b"\x00" * 32
TAMPERING = {
    "event deleted": (
        "audit_events",
        "DELETE FROM audit_events WHERE tenant_id = :t AND seq = :s",
        "event {s}: missing",
    ),
    "interior node replaced": (
        "ledger_nodes",
        "UPDATE ledger_nodes SET hash = :zeros WHERE tenant_id = :t AND level = 1 AND idx = 1",
        "node (1, 1): not the hash of its children",
    ),
    "checkpoint root column replaced": (
        "ledger_checkpoints",
        "UPDATE ledger_checkpoints SET root_hash = :zeros WHERE tenant_id = :t AND size = :s + 1",
        "checkpoint {s1} (size {s1}): its root_hash column differs",
    ),
    "checkpoint note moved": (
        "ledger_checkpoints",
        "UPDATE ledger_checkpoints SET note = (SELECT note FROM ledger_checkpoints"
        " WHERE tenant_id = :t AND size = :s) WHERE tenant_id = :t AND size = :s + 1",
        "checkpoint {s1} (size {s1}): its note is for size {s}",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_fsck_reports_rows_changed_behind_the_triggers(
    session_factory: sessionmaker[Session], settings: Settings, backend: str, name: str
) -> None:
    table, statement, expected = TAMPERING[name]
    tenant_id = ledger(session_factory, settings, 4)
    victim = head_size(session_factory, tenant_id) - 3
    with unit_of_work(session_factory) as session:
        scope_to_tenant(session, tenant_id)
        with triggers_off(session, backend, table):
            session.execute(text(statement), {"t": tenant_id, "s": victim, "zeros": ZEROS})
    report = check(session_factory, settings, tenant_id)
    assert not report.ok
    message = expected.format(s=victim, s1=victim + 1)
    assert any(problem.startswith(message) for problem in report.problems), report.problems


@pytest.mark.parametrize("thorough", [False, True], ids=["head-fixed", "tree-rebuilt"])
def test_truncation_is_caught_by_fsck_or_by_the_witness(
    session_factory: sessionmaker[Session],
    settings: Settings,
    backend: str,
    tmp_path: Path,
    thorough: bool,
) -> None:
    tenant_id = ledger(session_factory, settings, 3)
    witness = stored_witness(session_factory, tenant_id)
    size = head_size(session_factory, tenant_id)
    truncate_last_event(session_factory, backend, tenant_id, size, thorough=thorough)
    report = check(session_factory, settings, tenant_id)
    assert report.ok is thorough, report.problems  # a clean rewrite fools every hash...
    witnessed = check(session_factory, settings, tenant_id, witness_lines=witness)
    assert not witnessed.ok and witnessed.failing_checkpoint == size  # ...but not a witness
    assert any("history was cut" in problem for problem in witnessed.problems)
    if thorough:
        export(session_factory, settings, tenant_id, tmp_path / "out")
        (tmp_path / "witness.jsonl").write_text("\n".join(witness) + "\n")
        assert verify_export(tmp_path / "out").ok
        verified = verify_export(tmp_path / "out", witness=tmp_path / "witness.jsonl")
        assert not verified.ok and verified.failing_checkpoint == size
        assert "history was cut" in verified.failures[0]


def truncate_last_event(
    factory: sessionmaker[Session], backend: str, tenant_id: str, size: int, *, thorough: bool
) -> None:
    """Delete the last event and fix the head; ``thorough`` also drops every node and
    checkpoint that covered it, leaving a database consistent with the shorter history."""
    last, params = size - 1, {"t": tenant_id}
    with unit_of_work(factory) as session:
        scope_to_tenant(session, tenant_id)
        with triggers_off(session, backend, "audit_events"):
            session.execute(
                text("DELETE FROM audit_events WHERE tenant_id = :t AND seq = :s"),
                {**params, "s": last},
            )
        if thorough:
            with triggers_off(session, backend, "ledger_nodes"):
                for level in range(size.bit_length()):
                    session.execute(
                        text(
                            "DELETE FROM ledger_nodes"
                            " WHERE tenant_id = :t AND level = :l AND idx = :i"
                        ),
                        {**params, "l": level, "i": last >> level},
                    )
            with triggers_off(session, backend, "ledger_checkpoints"):
                session.execute(
                    text("DELETE FROM ledger_checkpoints WHERE tenant_id = :t AND size >= :s"),
                    {**params, "s": size},
                )
        nodes = fetch_nodes(session, tenant_id, merkle.root_nodes(last))
        frontier = [nodes[node] for node in merkle.root_nodes(last)]
        session.execute(
            text("UPDATE ledger_heads SET size = :n, frontier = :f WHERE tenant_id = :t"),
            {**params, "n": last, "f": merkle.serialize_frontier(frontier)},
        )
