"""Readers for PSPLIB single-mode `.sm`, Patterson `.rcp` and RCPSP/max (ProGen/max) `.sch` files."""

from __future__ import annotations

import re
from pathlib import Path

from orkit.core.errors import InstanceError, ModelError
from orkit.formats.text import Tokens, line_ints, read_text
from orkit.models.rcpsp import RCPSP

# Sizes far beyond any published instance: reject before allocating anything.
MAX_ACTIVITIES = 100_000
MAX_RESOURCES = 1_000
MAX_VALUE = 10**9


def _build(path: Path, line: int, **kwargs) -> RCPSP:
    try:
        return RCPSP(name=path.stem, **kwargs)
    except ModelError as exc:
        raise InstanceError(str(exc), path, line) from None


def _check_demands(path: Path, demands: list[list[int]], capacities: list[int], lines: list[int],
                   first_label: int) -> None:
    """Point a demand above capacity at the line of the activity that makes it."""
    for index, row in enumerate(demands):
        for k, (demand, capacity) in enumerate(zip(row, capacities)):
            if demand > capacity:
                raise InstanceError(
                    f"activity {index + first_label}: demand {demand} of resource R{k + 1} exceeds its capacity "
                    f"{capacity}", path, lines[index])


def _request_table(tokens: Tokens, labels: range, n_res: int, what: str) -> tuple[list, list, list]:
    """Rows `number mode duration demand...` (single mode): durations, demands and their lines."""
    durations, demands, lines = [], [], []
    for expected in labels:
        line = tokens.line()
        lines.append(line)
        job = tokens.int(f"{what} number")
        if job != expected:
            raise tokens.error(f"expected {what} {expected} in the request table, found {job}", line)
        tokens.int("mode", 1, 1)
        durations.append(tokens.int(f"duration of {what} {job}", 0, MAX_VALUE))
        demands.append(tokens.ints(n_res, f"demand of {what} {job}", 0, MAX_VALUE))
        if tokens.line() == line and not tokens.at_end() and not tokens.items[tokens.pos][0].startswith("*"):
            raise tokens.error(f"{what} {job}: more values than 1 mode, 1 duration and {n_res} demands", line)
    return durations, demands, lines


def _check_successors(tokens: Tokens, succ: list[int], n: int, job: int, line: int, offset: int) -> None:
    for s in succ:
        if not offset <= s < n + offset:
            raise tokens.error(f"job {job}: successor {s} is not a job number ({offset}..{n - 1 + offset})", line)


def read_sm(path: str | Path) -> RCPSP:
    """PSPLIB single-mode `.sm`: sections located by their headings, jobs numbered 1..n."""
    path = Path(path)
    text = read_text(path)
    lines = text.splitlines()

    def find(pattern: str, start: int = 0) -> int:
        for number in range(start, len(lines)):
            if re.search(pattern, lines[number], re.IGNORECASE):
                return number
        raise InstanceError(f"missing section or field matching {pattern!r}: not a PSPLIB .sm file?", path)

    def value_after_colon(number: int, what: str) -> int:
        part = lines[number].split(":", 1)[1].split() if ":" in lines[number] else []
        if not part or not part[0].lstrip("-").isdigit():
            raise InstanceError(f"expected the number of {what} after ':'", path, number + 1)
        return int(part[0])

    jobs_line = find(r"^\s*jobs\b")
    n = value_after_colon(jobs_line, "jobs")
    if not 1 <= n <= MAX_ACTIVITIES:
        raise InstanceError(f"number of jobs {n} outside 1..{MAX_ACTIVITIES}", path, jobs_line + 1)
    renew_line = find(r"-\s*renewable")
    n_res = value_after_colon(renew_line, "renewable resources")
    if not 0 <= n_res <= MAX_RESOURCES:
        raise InstanceError(f"number of resources {n_res} outside 0..{MAX_RESOURCES}", path, renew_line + 1)
    nonrenew_line = find(r"-\s*nonrenewable")
    if value_after_colon(nonrenew_line, "nonrenewable resources") not in (0,):
        raise InstanceError("nonrenewable resources are not supported (single-mode RCPSP only)", path,
                            nonrenew_line + 1)

    prec_head = find(r"^\s*PRECEDENCE RELATIONS")
    tokens = Tokens("", path, prec_head + 3, lines[prec_head + 2 :])
    precedences = []
    for expected in range(1, n + 1):
        line = tokens.line()
        job = tokens.int("job number")
        if job != expected:
            raise tokens.error(f"expected job {expected} in the precedence table, found {job}", line)
        modes = tokens.int("number of modes", 1)
        if modes != 1:
            raise tokens.error(f"job {job} has {modes} modes; only single-mode files are supported", line)
        count = tokens.int("number of successors", 0, n)
        succ = tokens.ints(count, f"successor of job {job}")
        _check_successors(tokens, succ, n, job, line, 1)
        precedences += [(job - 1, s - 1) for s in succ]
        if tokens.line() == line and not tokens.at_end():
            raise tokens.error(f"job {job}: more successors listed than the count {count}", line)

    req_head = find(r"^\s*REQUESTS/DURATIONS")
    dash = find(r"^-{5,}", req_head)
    tokens = Tokens("", path, dash + 2, lines[dash + 1 :])
    durations, demands, demand_lines = _request_table(tokens, range(1, n + 1), n_res, "job")

    cap_head = find(r"^\s*RESOURCEAVAILABILITIES")
    cap_line = cap_head + 2
    if cap_line >= len(lines):
        raise InstanceError("file ends before the resource availabilities", path, cap_head + 1)
    capacities = line_ints(lines[cap_line], path, cap_line + 1, "resource capacities")
    if len(capacities) != n_res:
        raise InstanceError(f"expected {n_res} resource capacities, found {len(capacities)}", path, cap_line + 1)
    _check_demands(path, demands, capacities, demand_lines, 1)
    return _build(
        path, cap_line + 1, durations=durations, demands=demands, capacities=capacities, precedences=precedences,
        labels=[str(i) for i in range(1, n + 1)],
    )


def read_rcp(path: str | Path) -> RCPSP:
    """Patterson `.rcp`: `n R`, capacities, then per job `duration demands... nsucc succ...`."""
    path = Path(path)
    tokens = Tokens(read_text(path), path)
    n = tokens.int("number of activities", 1, MAX_ACTIVITIES)
    n_res = tokens.int("number of resources", 0, MAX_RESOURCES)
    capacities = tokens.ints(n_res, "resource capacity", 0, MAX_VALUE)
    durations, demands, precedences, demand_lines = [], [], [], []
    for job in range(1, n + 1):
        line = tokens.line()
        demand_lines.append(line)
        durations.append(tokens.int(f"duration of activity {job}", 0, MAX_VALUE))
        demands.append(tokens.ints(n_res, f"demand of activity {job}", 0, MAX_VALUE))
        count = tokens.int(f"successor count of activity {job}", 0, n)
        succ = tokens.ints(count, f"successor of activity {job}")
        _check_successors(tokens, succ, n, job, line, 1)
        precedences += [(job - 1, s - 1) for s in succ]
    if not tokens.at_end():
        raise tokens.error(f"unexpected data after the {n} activities")
    _check_demands(path, demands, capacities, demand_lines, 1)
    return _build(
        path, tokens.last_line, durations=durations, demands=demands, capacities=capacities,
        precedences=precedences, labels=[str(i) for i in range(1, n + 1)],
    )


def read_sch(path: str | Path) -> RCPSP:
    """RCPSP/max `.sch` (ProGen/max): start-to-start lags in brackets, jobs numbered 0..n+1."""
    path = Path(path)
    text = read_text(path)
    lines = [line for line in text.splitlines()]
    tokens = Tokens("", path, 1, [line.replace("[", " ").replace("]", " ") for line in lines])
    header_line = tokens.line()
    n_real = tokens.int("number of real activities", 0, MAX_ACTIVITIES)
    n_res = tokens.int("number of renewable resources", 0, MAX_RESOURCES)
    while not tokens.at_end() and tokens.line() == header_line:
        tokens.next("header field")
    n = n_real + 2
    lags = []
    for expected in range(n):
        line = tokens.line()
        job = tokens.int("activity number")
        if job != expected:
            raise tokens.error(f"expected activity {expected} in the lag table, found {job}", line)
        tokens.int("mode count", 1, 1)
        count = tokens.int(f"successor count of activity {job}", 0, n)
        succ = tokens.ints(count, f"successor of activity {job}")
        _check_successors(tokens, succ, n, job, line, 0)
        values = tokens.ints(count, f"time lag of activity {job}", -MAX_VALUE, MAX_VALUE)
        lags += [(job, s, lag) for s, lag in zip(succ, values)]
    durations, demands, demand_lines = _request_table(tokens, range(n), n_res, "activity")
    cap_line = tokens.line()
    capacities = tokens.ints(n_res, "resource capacity", 0, MAX_VALUE)
    if not tokens.at_end():
        raise tokens.error(f"unexpected data after the {n_res} resource capacities")
    _check_demands(path, demands, capacities, demand_lines, 0)
    return _build(
        path, cap_line, durations=durations, demands=demands, capacities=capacities, time_lags=lags,
        labels=[str(i) for i in range(n)],
    )
