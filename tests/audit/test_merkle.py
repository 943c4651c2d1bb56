"""RFC 9162 Merkle trees: reference vectors, the RFC's own definitions, and tampering."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustplane.audit import merkle
from trustplane.audit.merkle import (
    EMPTY_ROOT,
    NodeId,
    ProofError,
    append,
    consistency_nodes,
    consistency_proof,
    deserialize_frontier,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_at,
    root_from_leaf_hashes,
    root_nodes,
    serialize_frontier,
    subtree_nodes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "merkle"
VECTOR_FILES = sorted(VECTORS.rglob("*.json")) if VECTORS.is_dir() else []
VECTOR_COUNT = 196

# The leaves of the RFC 6962 reference tree, which the happy-path vectors are built from.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

MAX_SIZE = 300
PROPERTIES = settings(max_examples=800, deadline=None, derandomize=True)


# Reference implementation: RFC 9162 section 2.1, transcribed with recursion and slicing.


def _ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _ref_split(len(hashes))
    return hashlib.sha256(b"\x01" + ref_mth(hashes[:k]) + ref_mth(hashes[k:])).digest()


def ref_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _ref_split(len(hashes))
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if whole else [ref_mth(hashes)]
    k = _ref_split(len(hashes))
    if m <= k:
        return [*ref_subproof(m, hashes[:k], whole), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


# Trees built the way the ledger builds them: append, storing every completed node.


Tree = tuple[tuple[bytes, ...], dict[NodeId, bytes], list[list[bytes]]]


def build(data: Sequence[bytes]) -> Tree:
    """Leaf hashes, the node store, and the frontier after each size (index = size)."""
    frontier: list[bytes] = []
    frontiers = [frontier]
    store: dict[NodeId, bytes] = {}
    for size, item in enumerate(data):
        frontier, completed = append(frontier, size, leaf_hash(item))
        frontiers.append(frontier)
        for level, index, value in completed:
            assert (level, index) not in store
            store[level, index] = value
    return tuple(leaf_hash(item) for item in data), store, frontiers


@lru_cache(maxsize=128)
def random_tree(salt: bytes) -> Tree:
    """A log of MAX_SIZE distinct leaves; a proof for one leaf can never honestly prove another.

    Each smaller tree is one of its prefixes, as when the ledger serves an older tree size.
    """
    return build([salt + i.to_bytes(2, "big") for i in range(MAX_SIZE)])


def flip(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


# 1. Reference vectors.


def test_vector_folder_is_present_and_complete() -> None:
    assert VECTORS.is_dir(), f"Merkle test vectors missing at {VECTORS}"
    assert len(VECTOR_FILES) == VECTOR_COUNT


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _vector_check(path: Path) -> tuple[bool, Callable[[], None]]:
    """Whether the vector must be rejected, and the verification it describes."""
    case: dict[str, Any] = json.loads(path.read_text())
    proof = [_b64(item) for item in case["proof"] or []]
    if path.relative_to(VECTORS).parts[0] == "inclusion":
        return case["wantErr"], lambda: verify_inclusion(
            _b64(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b64(case["root"])
        )
    return case["wantErr"], lambda: verify_consistency(
        case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"])
    )


@pytest.mark.parametrize(
    "path", VECTOR_FILES, ids=[p.relative_to(VECTORS).as_posix() for p in VECTOR_FILES]
)
def test_vector(path: Path) -> None:
    want_error, check = _vector_check(path)
    if want_error:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_rfc6962_reference_roots() -> None:
    _, store, frontiers = build(RFC6962_LEAVES)
    for size, expected in enumerate(RFC6962_ROOTS, start=1):
        assert root(frontiers[size], size).hex() == expected
        assert root_at(size, store).hex() == expected


@pytest.mark.parametrize(
    "path",
    sorted(VECTORS.glob("*/*/happy-path.json")),
    ids=lambda p: p.parent.relative_to(VECTORS).as_posix(),
)
def test_generated_proofs_equal_happy_path_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    _, store, _ = build(RFC6962_LEAVES)
    want = [_b64(item) for item in case["proof"] or []]
    if "leafIdx" in case:
        assert _b64(case["root"]) == root_at(case["treeSize"], store)
        assert inclusion_proof(case["leafIdx"], case["treeSize"], store) == want
    else:
        assert _b64(case["root2"]) == root_at(case["size2"], store)
        assert consistency_proof(case["size1"], case["size2"], store) == want


# 2. Properties against the RFC definitions.


@PROPERTIES
@given(salt=st.binary(max_size=8), size=st.integers(1, MAX_SIZE), data=st.data())
def test_append_builds_the_rfc_tree(salt: bytes, size: int, data: st.DataObject) -> None:
    full, store, frontiers = random_tree(salt)
    hashes = full[:size]
    expected = ref_mth(hashes)
    assert root(frontiers[size], size) == expected
    assert root_from_leaf_hashes(hashes) == expected
    assert deserialize_frontier(serialize_frontier(frontiers[size]), size) == frontiers[size]
    complete = [(level, i) for level, i in store if (i + 1) << level <= size]
    assert len(complete) == 2 * size - size.bit_count()  # every perfect node, exactly once
    older = data.draw(st.integers(0, size), label="older")
    assert root_at(older, store) == ref_mth(hashes[:older])
    assert [store[node] for node in root_nodes(older)] == frontiers[older]
    level, index = data.draw(st.sampled_from(sorted(store)), label="node")
    assert store[level, index] == ref_mth(full[index << level : (index + 1) << level])


@PROPERTIES
@given(salt=st.binary(max_size=8), size=st.integers(1, MAX_SIZE), data=st.data())
def test_inclusion_proofs(salt: bytes, size: int, data: st.DataObject) -> None:
    hashes, store, _ = random_tree(salt)
    index = data.draw(st.integers(0, size - 1), label="index")
    assert all((i + 1) << level <= size for level, i in inclusion_nodes(index, size))
    proof = inclusion_proof(index, size, store)
    assert proof == ref_path(index, hashes[:size])
    head = root_at(size, store)
    verify_inclusion(hashes[index], index, size, proof, head)

    tampered: list[tuple[bytes, int, list[bytes], bytes]] = [
        (flip(hashes[index], index), index, proof, head),
        (hashes[index], index, proof, flip(head, index)),
        (hashes[index], index, [*proof, head], head),
    ]
    if size > 1:
        shift = data.draw(st.integers(1, size - 1), label="shift")
        tampered.append((hashes[index], (index + shift) % size, proof, head))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="at")
        tampered.append((hashes[index], index, proof[:-1], head))
        tampered.append(
            (hashes[index], index, [*proof[:at], flip(proof[at], at), *proof[at + 1 :]], head)
        )
    for leaf, position, path, claimed in tampered:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, position, size, path, claimed)


@PROPERTIES
@given(salt=st.binary(max_size=8), size2=st.integers(1, MAX_SIZE), data=st.data())
def test_consistency_proofs(salt: bytes, size2: int, data: st.DataObject) -> None:
    hashes, store, _ = random_tree(salt)
    size1 = data.draw(st.integers(1, size2), label="size1")
    assert all((i + 1) << level <= size2 for level, i in consistency_nodes(size1, size2))
    proof = consistency_proof(size1, size2, store)
    assert proof == ref_subproof(size1, hashes[:size2], True)
    root1, root2 = root_at(size1, store), root_at(size2, store)
    verify_consistency(size1, size2, proof, root1, root2)

    tampered = [
        (proof, flip(root1, size1), root2),
        (proof, root1, flip(root2, size2)),
        ([*proof, root2], root1, root2),
    ]
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1), label="at")
        tampered.append((proof[:-1], root1, root2))
        tampered.append(([*proof[:at], flip(proof[at], at), *proof[at + 1 :]], root1, root2))
    for path, claimed1, claimed2 in tampered:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, path, claimed1, claimed2)


@pytest.mark.parametrize("size", [0, 1, 4, 5, 8, 9, 12, 31, 32, 33, 100])
def test_root_from_leaf_hashes_across_batches(size: int) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    with mock.patch.object(merkle, "_CHUNK_LEVEL", 2):  # batches of 4 leaves
        assert root_from_leaf_hashes(iter(hashes)) == ref_mth(hashes)
    assert root_from_leaf_hashes(hashes) == ref_mth(hashes)


# Edge cases and error messages.


def test_hash_functions() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root([], 0) == root_at(0, {}) == root_from_leaf_hashes([]) == EMPTY_ROOT
    assert root_nodes(0) == []


def test_append_reports_completed_nodes() -> None:
    _, store, frontiers = build([b"a", b"b", b"c"])
    frontier, completed = append(frontiers[3], 3, leaf_hash(b"d"))
    assert [(level, index) for level, index, _ in completed] == [(0, 3), (1, 1), (2, 0)]
    assert frontier == [completed[-1][2]]
    assert frontiers[3] == [store[1, 0], store[0, 2]]  # the input is not changed


def test_frontier_and_store_errors() -> None:
    with pytest.raises(ValueError, match="frontier of size 3 has 2 hashes, not 1"):
        append([EMPTY_ROOT], 3, EMPTY_ROOT)
    with pytest.raises(ValueError, match="leaf is 31 bytes"):
        append([], 0, EMPTY_ROOT[:31])
    with pytest.raises(ValueError, match="frontier of size 3 is 64 bytes, not 32"):
        deserialize_frontier(EMPTY_ROOT, 3)
    with pytest.raises(ValueError, match="not a subtree"):
        subtree_nodes(1, 4)
    with pytest.raises(ValueError, match="0 <= start < end"):
        subtree_nodes(3, 3)
    assert subtree_nodes(8, 13) == [(2, 2), (0, 12)]
    with pytest.raises(KeyError):
        subtree_root(0, 2, {})
    with pytest.raises(ValueError, match="leaf index 5 is outside a tree of size 5"):
        inclusion_nodes(5, 5)
    with pytest.raises(ValueError, match="need 0 < m <= n"):
        consistency_nodes(0, 5)
    with pytest.raises(ValueError, match="need 0 < m <= n"):
        consistency_nodes(6, 5)
    assert consistency_proof(5, 5, {}) == []
    with pytest.raises(ValueError, match="leaf hash 5 is 3 bytes"):
        root_from_leaf_hashes([EMPTY_ROOT] * 5 + [b"abc"])


def test_verify_inclusion_messages() -> None:
    h = EMPTY_ROOT
    with pytest.raises(ProofError, match="leaf index 2 is outside a tree of size 2"):
        verify_inclusion(h, 2, 2, [h], h)
    with pytest.raises(ProofError, match="index must not be negative"):
        verify_inclusion(h, -1, 2, [h], h)
    with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes"):
        verify_inclusion(h, 0, 4, [h, h[:31]], h)
    with pytest.raises(ProofError, match="too long: 3 hashes, it takes 2"):
        verify_inclusion(h, 0, 4, [h, h, h], h)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(h, 0, 4, [h], h)
    with pytest.raises(ProofError, match="does not lead to the root"):
        verify_inclusion(h, 0, 4, [h, h], h)


def test_verify_consistency_messages() -> None:
    h = EMPTY_ROOT
    with pytest.raises(ProofError, match="size1 3 is larger than size2 2"):
        verify_consistency(3, 2, [], h, h)
    with pytest.raises(ProofError, match="from the empty tree"):
        verify_consistency(0, 0, [], h, h)
    with pytest.raises(ProofError, match="equal sizes take an empty proof, got 1"):
        verify_consistency(3, 3, [h], h, h)
    with pytest.raises(ProofError, match="two different roots for the same tree size 3"):
        verify_consistency(3, 3, [], h, leaf_hash(b""))
    with pytest.raises(ProofError, match="root2 is 0 bytes"):
        verify_consistency(3, 4, [h], h, b"")
    with pytest.raises(ProofError, match="empty consistency proof from size 3 to size 4"):
        verify_consistency(3, 4, [], h, h)
    with pytest.raises(ProofError, match="too long: 4 hashes, it takes 3"):
        verify_consistency(3, 4, [h, h, h, h], h, h)
    with pytest.raises(ProofError, match="too short"):
        verify_consistency(3, 8, [h], h, h)
    with pytest.raises(ProofError, match="does not rebuild root1"):
        verify_consistency(3, 4, [h, h, h], h, h)
