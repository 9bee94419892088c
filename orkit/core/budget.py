"""One wall-clock budget for a whole solve call, plus cooperative interruption (Ctrl-C)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from orkit.core.result import Stop


class Budget:
    """Tracks the deadline of a solve call and whether the user asked to stop.

    Backends ask `remaining()` before and during their work, and register a stop hook
    (e.g. CP-SAT's StopSearch) with `on_interrupt` so a Ctrl-C reaches native code at once.
    """

    def __init__(self, time_limit: float, start: float | None = None):
        if not time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {time_limit}")
        self.start = time.perf_counter() if start is None else start
        self.time_limit = float(time_limit)
        self.deadline = self.start + self.time_limit
        self._interrupted = threading.Event()
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        return time.perf_counter() >= self.deadline

    @property
    def interrupted(self) -> bool:
        return self._interrupted.is_set()

    def should_stop(self) -> bool:
        return self.interrupted or self.expired()

    def stop_cause(self) -> Stop:
        """Why a stage that ran to its own end stopped: the user, the clock, or neither."""
        if self.interrupted:
            return Stop.INTERRUPTED
        return Stop.TIME_LIMIT if self.expired() else Stop.COMPLETED

    def slice(self, seconds: float) -> Budget:
        """A budget for part of this one: ends after `seconds` (or with this one), and stops when
        this one is interrupted."""
        child = Budget(max(1e-3, min(seconds, self.remaining())))
        self.on_interrupt(child.interrupt)
        return child

    def interrupt(self) -> None:
        """Ask every running stage to stop and keep its best solution."""
        self._interrupted.set()
        with self._lock:
            hooks = list(self._hooks)
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook failing must not hide the interrupt
                pass

    def on_interrupt(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Register a stop hook; returns a function that removes it again."""
        with self._lock:
            self._hooks.append(hook)
        if self.interrupted:
            hook()

        def remove() -> None:
            with self._lock:
                if hook in self._hooks:
                    self._hooks.remove(hook)

        return remove
