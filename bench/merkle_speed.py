"""Time the audit ledger's Merkle tree code at one million leaves.

Prints how long the offline verifier takes to recompute a root from every leaf hash, what one
ledger append costs, and how long inclusion and consistency proofs take to assemble from a
node store (a dict standing in for the database) at tree size 1,000,000. Wall time moves with
the machine's load; CPU time is printed beside it.

    python bench/merkle_speed.py [--leaves 1000000] [--proofs 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections.abc import Callable
from typing import TypeVar

from trustplane.audit.merkle import (
    NodeId,
    append,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    root_at,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """Run once; return the result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def node_store(leaves: list[bytes]) -> dict[NodeId, bytes]:
    """Every perfect node, a level at a time: the rows the ledger would hold."""
    store: dict[NodeId, bytes] = {(0, i): value for i, value in enumerate(leaves)}
    level, row = 0, leaves
    while len(row) > 1:
        row = [
            hashlib.sha256(b"\x01" + left + right).digest()
            for left, right in zip(row[::2], row[1::2], strict=False)
        ]
        level += 1
        store.update(((level, i), value) for i, value in enumerate(row))
    return store


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="root recomputations; best kept")
    args = parser.parse_args()
    size, rng = args.leaves, random.Random(9162)
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(size)]

    runs = [timed(lambda: root_from_leaf_hashes(leaves)) for _ in range(args.repeat)]
    head, wall, cpu = min(runs, key=lambda run: run[1])
    print(f"root_from_leaf_hashes, {size:,} leaves: {wall:.2f} s wall, {cpu:.2f} s CPU (best of")
    print(f"  {args.repeat}; every run: {', '.join(f'{run[1]:.2f}' for run in runs)} s wall)")

    count = min(size, 100_000)
    frontier: list[bytes] = []

    def appends() -> None:
        nonlocal frontier
        for i in range(count):
            frontier, _ = append(frontier, i, leaves[i])

    _, wall, cpu = timed(appends)
    print(f"append: {wall / count * 1e6:.1f} us wall, {cpu / count * 1e6:.1f} us CPU per leaf")

    store = node_store(leaves)
    assert root_at(size, store) == head
    indices = [rng.randrange(size) for _ in range(args.proofs)]
    olds = [rng.randrange(1, size) for _ in range(args.proofs)]

    def inclusions() -> list[list[bytes]]:
        proofs = []
        for index in indices:
            wanted = inclusion_nodes(index, size)
            fetched = {node: store[node] for node in wanted}  # one batched read
            proofs.append(inclusion_proof(index, size, fetched))
        return proofs

    def consistencies() -> list[list[bytes]]:
        proofs = []
        for old in olds:
            fetched = {node: store[node] for node in consistency_nodes(old, size)}
            proofs.append(consistency_proof(old, size, fetched))
        return proofs

    cases: list[tuple[str, Callable[[], list[list[bytes]]], list[list[NodeId]]]] = [
        ("inclusion", inclusions, [inclusion_nodes(index, size) for index in indices]),
        ("consistency", consistencies, [consistency_nodes(old, size) for old in olds]),
    ]
    for name, build, reads in cases:
        proofs, wall, cpu = timed(build)
        most = max(map(len, reads))
        print(
            f"{name} proof at size {size:,}: {wall / len(proofs) * 1e6:.0f} us wall, "
            f"{cpu / len(proofs) * 1e6:.0f} us CPU each (at most {most} stored nodes read)"
        )
    for index, proof in zip(indices, inclusions(), strict=True):
        verify_inclusion(leaves[index], index, size, proof, head)
    for old, proof in zip(olds, consistencies(), strict=True):
        verify_consistency(old, size, proof, root_at(old, store), head)
    print(f"all {2 * len(indices)} proofs verified against root {head.hex()[:16]}...")


if __name__ == "__main__":
    main()
