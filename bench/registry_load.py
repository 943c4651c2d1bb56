"""Closed-loop load for the registry benchmark: N threads, each with its own keep-alive client.

Each client prepares (outside the clock), waits at a barrier, then runs its share of steps
back to back. The rate is steps completed over the wall time from the barrier to the last
client's end; latencies are per request.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Step = Callable[[int], list[float]]
Prepare = Callable[[], tuple[Step, Callable[[], None]]]


@dataclass
class Rate:
    clients: int
    steps: int
    seconds: float
    errors: int
    latencies: list[float] = field(repr=False, default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        cuts = statistics.quantiles(self.latencies, n=1000, method="inclusive")
        return cuts[min(len(cuts) - 1, int(q * 1000) - 1)] * 1000

    def line(self, label: str) -> str:
        text = (
            f"{label:<26} c={self.clients:<3} {self.steps:>6} versions in {self.seconds:6.1f}s"
            f"  {self.rate:8.1f} versions/s  request p50 {self.percentile(0.5):6.2f} ms"
            f"  p99 {self.percentile(0.99):7.2f} ms  errors {self.errors}"
        )
        for sample in self.error_samples:
            text += f"\n    error: {sample}"
        return text


def drive(clients: int, total: int, worker: Callable[[int, int], Prepare]) -> Rate:
    """Run ``total`` steps split over ``clients`` threads; ``worker(i, n)`` builds client i."""
    shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)
    results: list[tuple[int, list[float], list[str]]] = [(0, [], []) for _ in range(clients)]
    ends = [0.0] * clients

    def run(index: int) -> None:
        errors: list[str] = []
        latencies: list[float] = []
        done = 0
        try:
            step, close = worker(index, shares[index])()
        except Exception as exc:  # a client that cannot start is one error, not a hang
            barrier.wait()
            results[index] = (0, [], [f"set-up: {exc}"])
            ends[index] = time.perf_counter()
            return
        barrier.wait()
        try:
            for k in range(shares[index]):
                try:
                    latencies += step(k)
                    done += 1
                except Exception as exc:  # counted and reported, the run goes on
                    errors.append(str(exc)[:300])
        finally:
            ends[index] = time.perf_counter()
            close()
        results[index] = (done, latencies, errors)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = max(ends) - began
    all_errors = [e for _, _, errs in results for e in errs]
    return Rate(
        clients=clients,
        steps=sum(done for done, _, _ in results),
        seconds=seconds,
        errors=len(all_errors),
        latencies=[x for _, lat, _ in results for x in lat],
        error_samples=all_errors[:3],
    )
