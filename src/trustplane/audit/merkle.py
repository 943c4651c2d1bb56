"""RFC 9162 (section 2.1) Merkle trees for the per-tenant audit ledger.

The ledger stores the hash of every perfect subtree, addressed as ``(level, index)``: the node at
level k, index j covers leaves ``[j * 2**k, (j + 1) * 2**k)`` and level 0 holds the leaf hashes.
It also keeps the right frontier (compact range) of its current size, so appending never reads an
old node. Proofs and older roots need only the O(log n) stored nodes that the ``*_nodes``
functions name, so a caller fetches them in one query, and only partial right-edge subtrees are
hashed. Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""A perfect subtree as ``(level, index)``."""

_CHUNK_LEVEL = 14  # root_from_leaf_hashes hashes 2**14 leaves per batch: fast, little memory


class ProofError(ValueError):
    """A proof, size or hash that does not verify, so the claim it backs must not be trusted."""


def leaf_hash(data: bytes) -> bytes:
    """Hash an entry; the 0x00 prefix keeps leaves apart from interior nodes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children; the 0x01 prefix keeps interior nodes apart from leaves."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash(name: str, value: bytes, error: type[ValueError] = ValueError) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{name} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}")


def _check_hashes(name: str, values: Sequence[bytes], error: type[ValueError] = ValueError) -> None:
    for i, value in enumerate(values):
        _check_hash(f"{name}[{i}]", value, error)


def _check_size(name: str, value: int, error: type[ValueError] = ValueError) -> None:
    if value < 0:
        raise error(f"{name} must not be negative, got {value}")


def _split(width: int) -> int:
    """The largest power of two below ``width`` (at least 2): where RFC 9162 splits a tree."""
    return 1 << ((width - 1).bit_length() - 1)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect subtrees, largest first, into the root of the tree they cover together."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


# Frontier: the compact range [0, size), one perfect subtree per set bit of size, largest first.


def _check_frontier(frontier: Sequence[bytes], size: int) -> None:
    _check_size("size", size)
    if len(frontier) != size.bit_count():
        raise ValueError(
            f"a frontier of size {size} has {size.bit_count()} hashes, not {len(frontier)}"
        )
    _check_hashes("frontier", frontier)


def append(
    frontier: Sequence[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Add the leaf hash ``leaf`` at index ``size``; reads nothing but the frontier.

    Returns the new frontier and every perfect node this leaf completes as ``(level, index,
    hash)``, the leaf itself first, so the caller can store them for later proofs.
    """
    _check_frontier(frontier, size)
    _check_hash("leaf", leaf)
    stack = list(frontier)
    completed = [(0, size, leaf)]
    level, index, current = 0, size, leaf
    while index & 1:  # a perfect sibling on the left: merge and climb
        current = node_hash(stack.pop(), current)
        level, index = level + 1, index >> 1
        completed.append((level, index, current))
    stack.append(current)
    return stack, completed


def root(frontier: Sequence[bytes], size: int) -> bytes:
    """The RFC 9162 root of the tree the frontier describes."""
    _check_frontier(frontier, size)
    return _fold(frontier) if size else EMPTY_ROOT


def serialize_frontier(frontier: Sequence[bytes]) -> bytes:
    """Concatenate the frontier hashes for the ledger head row; the size gives their count."""
    _check_hashes("frontier", frontier)
    return b"".join(frontier)


def deserialize_frontier(data: bytes, size: int) -> list[bytes]:
    """Split a stored frontier, refusing one whose length does not match ``size``."""
    _check_size("size", size)
    expected = size.bit_count() * HASH_SIZE
    if len(data) != expected:
        raise ValueError(f"a frontier of size {size} is {expected} bytes, not {len(data)}")
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, expected, HASH_SIZE)]


# Reading from the node store: coordinates first (to batch the reads), then assembly.


def subtree_nodes(start: int, end: int) -> list[NodeId]:
    """The perfect nodes, largest first, whose fold is the RFC 9162 hash of leaves [start, end).

    Only subtrees of some RFC 9162 tree qualify: ``start`` must be a multiple of the smallest
    power of two at least ``end - start``; otherwise the RFC splits the range elsewhere.
    """
    if not 0 <= start < end:
        raise ValueError(f"need 0 <= start < end, got [{start}, {end})")
    width = end - start
    if start & ((1 << (width - 1).bit_length()) - 1):
        raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 9162 tree")
    nodes: list[NodeId] = []
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def subtree_root(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """The hash of subtree [start, end) from stored perfect nodes (KeyError if one is missing)."""
    return _fold([nodes[node] for node in subtree_nodes(start, end)])


def root_nodes(size: int) -> list[NodeId]:
    """The nodes ``root_at`` reads; they are also the frontier of ``size``."""
    _check_size("size", size)
    return subtree_nodes(0, size) if size else []


def root_at(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """The root the log had at ``size``, for checkpoints and proofs against older heads."""
    _check_size("size", size)
    return subtree_root(0, size, nodes) if size else EMPTY_ROOT


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """PATH(index, D[size]) as leaf ranges, bottom-up (RFC 9162 section 2.1.3.1)."""
    _check_size("index", index)
    if index >= size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(m: int, n: int) -> list[tuple[int, int]]:
    """PROOF(m, D[n]) as leaf ranges, in proof order (RFC 9162 section 2.1.4.1)."""
    if not 0 < m <= n:
        raise ValueError(f"need 0 < m <= n for a consistency proof, got m={m}, n={n}")
    ranges = []
    start, end, whole = 0, n, True  # computing SUBPROOF(m - start, D[start:end], whole)
    while m != end:
        mid = start + _split(end - start)
        if m <= mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((start, mid))
            start, whole = mid, False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """The stored nodes ``inclusion_proof`` reads."""
    return [node for r in _inclusion_ranges(index, size) for node in subtree_nodes(*r)]


def inclusion_proof(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The RFC 9162 audit path of leaf ``index`` in the tree of ``size``."""
    return [subtree_root(start, end, nodes) for start, end in _inclusion_ranges(index, size)]


def consistency_nodes(m: int, n: int) -> list[NodeId]:
    """The stored nodes ``consistency_proof`` reads."""
    return [node for r in _consistency_ranges(m, n) for node in subtree_nodes(*r)]


def consistency_proof(m: int, n: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """The RFC 9162 proof that the tree of size ``m`` is a prefix of the tree of size ``n``."""
    return [subtree_root(start, end, nodes) for start, end in _consistency_ranges(m, n)]


# Verification: RFC 9162 step by step, for the offline verifier and for clients.


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an audit path (RFC 9162 section 2.1.3.2); raise ProofError unless it proves it."""
    _check_size("index", index, ProofError)
    _check_size("size", size, ProofError)
    if index >= size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash("leaf hash", leaf_hash, ProofError)
    _check_hash("root", root, ProofError)
    _check_hashes("proof", proof, ProofError)
    fn, sn, r = index, size - 1, leaf_hash
    for used, p in enumerate(proof):
        if sn == 0:
            raise ProofError(f"inclusion proof too long: {len(proof)} hashes, it takes {used}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # the RFC's "until LSB(fn) is set or fn is 0"
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof too short: {len(proof)} hashes stop below the root")
    if r != root:
        raise ProofError(f"inclusion proof does not lead to the root: leaf {index} not proven")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that tree ``size2`` extends tree ``size1`` (RFC 9162 section 2.1.4.2).

    Equal sizes need an empty proof and equal roots and nothing is hashed, so, as the reference
    vectors require, the roots are compared whatever their length. A proof from the empty tree
    proves nothing (every tree extends it) and is refused.
    """
    _check_size("size1", size1, ProofError)
    _check_size("size2", size2, ProofError)
    if size1 > size2:
        raise ProofError(f"size1 {size1} is larger than size2 {size2}: a log never shrinks")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing; refused")
    if size1 == size2:
        if proof:
            raise ProofError(f"equal sizes take an empty proof, got {len(proof)} hashes")
        if root1 != root2:
            raise ProofError(f"two different roots for the same tree size {size1}")
        return
    _check_hash("root1", root1, ProofError)
    _check_hash("root2", root2, ProofError)
    _check_hashes("proof", proof, ProofError)
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to size {size2}")
    seeded = size1 & (size1 - 1) == 0  # the RFC prepends root1 when size1 is a power of two
    path = [root1, *proof] if seeded else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for used, c in enumerate(path[1:], start=0 if seeded else 1):
        if sn == 0:
            raise ProofError(f"consistency proof too long: {len(proof)} hashes, it takes {used}")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:  # the RFC's "until LSB(fn) is set or fn is 0"
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof too short: {len(proof)} hashes stop below the root")
    if fr != root1:
        raise ProofError(f"consistency proof does not rebuild root1 of size {size1}")
    if sr != root2:
        raise ProofError(f"consistency proof does not rebuild root2 of size {size2}")


def _batch_root(hashes: list[bytes]) -> bytes:
    """RFC 9162 root of a non-empty list, a level at a time (an odd last node moves up as is)."""
    sha256, prefix = hashlib.sha256, b"\x01"
    level = hashes
    while len(level) > 1:
        pairs = zip(level[::2], level[1::2], strict=False)  # an odd last node has no pair
        upper = [sha256(prefix + left + right).digest() for left, right in pairs]
        if len(level) & 1:
            upper.append(level[-1])
        level = upper
    return level[0]


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """Recompute a root from every leaf hash in O(n) time and O(log n) memory beyond a batch.

    Full batches of 2**14 leaves are perfect subtrees, kept on a frontier; a level-at-a-time
    pass inside each batch keeps the Python overhead per hash small.
    """
    frontier: list[bytes] = []
    batches = 0
    leaves = iter(hashes)
    while batch := list(islice(leaves, 1 << _CHUNK_LEVEL)):
        if set(map(len, batch)) != {HASH_SIZE}:
            bad = next(i for i, value in enumerate(batch) if len(value) != HASH_SIZE)
            _check_hash(f"leaf hash {(batches << _CHUNK_LEVEL) + bad}", batch[bad])
        current = _batch_root(batch)
        if len(batch) < 1 << _CHUNK_LEVEL:
            frontier.append(current)
            break
        count = batches
        while count & 1:
            current = node_hash(frontier.pop(), current)
            count >>= 1
        frontier.append(current)
        batches += 1
    return _fold(frontier) if frontier else EMPTY_ROOT
