"""Setup-aware packing of links into windows, one window at a time: the decoder shared by the
greedy heuristic and the evolutionary algorithm.

Each satellite and each antenna keeps a sorted timeline of what it holds. A window's link is the
longest piece of the window that no earlier link blocks: a satellite link [s', e') blocks
[s' - switch, e' + switch), an antenna occupation [lo, hi) blocks link times
[lo - after, hi + before) (the model's `padding`), and caps per period trim the piece.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

from orkit.models.satellite import Link, LinkPlan, LinkScheduling

Piece = tuple[int, int]


class Timeline:
    """Disjoint [lo, hi) blocks sorted by start (hence by end); answers which parts of a span are free."""

    def __init__(self) -> None:
        self.lo: list[int] = []
        self.hi: list[int] = []

    def add(self, lo: int, hi: int) -> None:
        k = bisect.bisect_left(self.lo, lo)
        self.lo.insert(k, lo)
        self.hi.insert(k, hi)

    def remove(self, lo: int, hi: int) -> None:
        k = bisect.bisect_left(self.lo, lo)
        while self.hi[k] != hi or self.lo[k] != lo:
            k += 1
        del self.lo[k], self.hi[k]

    def free(self, pieces: list[Piece], before: int, after: int) -> list[Piece]:
        """Parts of `pieces` outside every block widened to [lo - before, hi + after)."""
        out: list[Piece] = []
        for a, b in pieces:
            # blocks that can touch [a, b): those with lo - before < b and hi + after > a
            # (blocks are disjoint, so their ends are sorted too)
            k = bisect.bisect_left(self.lo, b + before)
            j = bisect.bisect_right(self.hi, a - after)
            cursor = a
            for m in range(j, k):
                block_lo, block_hi = self.lo[m] - before, self.hi[m] + after
                if block_hi <= cursor or block_lo >= b:
                    continue
                if block_lo > cursor:
                    out.append((cursor, block_lo))
                cursor = max(cursor, block_hi)
                if cursor >= b:
                    break
            if cursor < b:
                out.append((cursor, b))
        return out


class Packer:
    """The partial plan of the decoder: links so far and the timelines they fill."""

    def __init__(self, model: LinkScheduling):
        self.model = model
        self.a = model.arrays
        self.sat = [Timeline() for _ in model.satellites]
        self.antenna = [[Timeline() for _ in range(s.antennas)] for s in model.stations]
        self.count: dict[tuple[int, int], int] = defaultdict(int)
        self.time: dict[tuple[int, int], int] = defaultdict(int)
        self.links: dict[int, tuple[int, int, tuple[int, ...]]] = {}  # window -> (start, end, antennas)
        self.value = 0

    def best_piece(self, k: int) -> tuple[int, int, tuple[int, ...]] | None:
        """The longest link window k can still take: (start, end, antennas), or None."""
        m, a = self.model, self.a
        w = m.windows[k]
        s = w.satellite
        mode = m.mode_of[s]
        pieces = self.sat[s].free(m.free_spans(k, w.rise, w.set), mode.switch, mode.switch)
        shortest = int(a["min_duration"][k])
        pieces = [p for p in pieces if p[1] - p[0] >= shortest]
        antennas: list[int] = []
        for i in w.stations:
            before, after = m.padding(k, i)
            best: tuple[int, list[Piece], int] | None = None
            for ant, timeline in enumerate(self.antenna[i]):
                free = timeline.free(pieces, after, before)
                longest = max((b - a_ for a_, b in free), default=0)
                if longest >= shortest and (best is None or longest > best[0]):
                    best = (longest, free, ant)
                    if not timeline.lo:
                        break  # an idle antenna: the others cannot do better
            if best is None:
                return None
            pieces = [p for p in best[1] if p[1] - p[0] >= shortest]
            antennas.append(best[2])
        if not pieces:
            return None
        lo, hi = max(pieces, key=lambda p: p[1] - p[0])
        length = min(hi - lo, int(a["max_duration"][k]), self.cap_left(k, lo))
        if length < shortest:
            return None
        return lo, lo + length, tuple(antennas)

    def cap_left(self, k: int, start: int) -> int:
        """Link seconds the caps of window k's satellite still allow in the period of `start`."""
        s = self.model.windows[k].satellite
        mode = self.model.mode_of[s]
        key = (s, start // self.model.period_of(s))
        if mode.max_links is not None and self.count[key] >= mode.max_links:
            return 0
        return mode.max_time - self.time[key] if mode.max_time is not None else self.model.horizon

    def admits(self, k: int, start: int, end: int, antennas: tuple[int, ...]) -> bool:
        """Whether the link [start, end) of window k on `antennas` fits the plan so far."""
        m = self.model
        w = m.windows[k]
        switch = m.mode_of[w.satellite].switch
        if self.sat[w.satellite].free([(start, end)], switch, switch) != [(start, end)]:
            return False
        for i, ant in zip(w.stations, antennas):
            before, after = m.padding(k, i)
            if self.antenna[i][ant].free([(start, end)], after, before) != [(start, end)]:
                return False
        return end - start <= self.cap_left(k, start)

    def place(self, k: int, start: int, end: int, antennas: tuple[int, ...]) -> None:
        m = self.model
        w = m.windows[k]
        self.sat[w.satellite].add(start, end)
        for i, ant in zip(w.stations, antennas):
            self.antenna[i][ant].add(*m.occupation(k, i, start, end))
        key = (w.satellite, start // m.period_of(w.satellite))
        self.count[key] += 1
        self.time[key] += end - start
        self.links[k] = (start, end, antennas)
        self.value += int(self.a["weight"][k]) * (end - start)

    def unplace(self, k: int) -> None:
        m = self.model
        start, end, antennas = self.links.pop(k)
        w = m.windows[k]
        self.sat[w.satellite].remove(start, end)
        for i, ant in zip(w.stations, antennas):
            self.antenna[i][ant].remove(*m.occupation(k, i, start, end))
        key = (w.satellite, start // m.period_of(w.satellite))
        self.count[key] -= 1
        self.time[key] -= end - start
        self.value -= int(self.a["weight"][k]) * (end - start)

    def insert(self, k: int) -> bool:
        piece = self.best_piece(k)
        if piece is None:
            return False
        self.place(k, *piece)
        return True

    def plan(self) -> LinkPlan:
        return LinkPlan(tuple(Link(int(k), s, e, ants) for k, (s, e, ants) in sorted(self.links.items())))


def pack(model: LinkScheduling, order, should_stop=None) -> Packer:
    """Insert windows in `order`, each as the longest link it can still take."""
    packer = Packer(model)
    usable = model.usable
    for n, k in enumerate(order):
        if usable[k]:
            packer.insert(int(k))
        if should_stop is not None and n % 512 == 511 and should_stop():
            break
    return packer
