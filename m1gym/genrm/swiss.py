"""Swiss-round tournaments to pick a prompt's reference answer, and a Bradley-Terry fit as a second opinion.

Rules (REFERENCE.md): at least ceil(log2 N) rounds so one unbeaten candidate can emerge; pair
candidates with equal scores; never a rematch; balance who sits first (seat A), since judges have
position bias; with an odd count one candidate gets a bye, at most once, and a bye counts as a win.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

#: match(a, b) -> 1.0 when a (in seat A) wins, 0.0 when b wins, 0.5 for a tie
MatchFn = Callable[[int, int], float]


@dataclass
class SwissResult:
    n: int
    scores: list[float]
    rounds: list[list[tuple[int, int, float]]] = field(default_factory=list)
    byes: list[int] = field(default_factory=list)
    seat_a: list[int] = field(default_factory=list)

    @property
    def games(self) -> list[tuple[int, int, float]]:
        return [g for r in self.rounds for g in r]

    def buchholz(self, i: int) -> float:
        """Sum of opponents' scores: the usual Swiss tie-break."""
        return sum(self.scores[b if a == i else a] for a, b, _ in self.games if i in (a, b))

    def ranking(self) -> list[int]:
        strength = bradley_terry(self.n, self.games)
        return sorted(range(self.n), key=lambda i: (-self.scores[i], -self.buchholz(i), -strength[i], i))

    @property
    def winner(self) -> int:
        return self.ranking()[0]


def min_rounds(n: int) -> int:
    return max(1, math.ceil(math.log2(n))) if n > 1 else 0


def _pair(order: list[int], played: set[frozenset]) -> list[tuple[int, int]] | None:
    """Pair neighbours in score order without rematches (backtracking)."""
    if not order:
        return []
    first, rest = order[0], order[1:]
    for k, other in enumerate(rest):
        if frozenset((first, other)) in played:
            continue
        tail = _pair(rest[:k] + rest[k + 1:], played)
        if tail is not None:
            return [(first, other)] + tail
    return None


def swiss_pairings(scores: Sequence[float], played: set[frozenset], had_bye: set[int],
                   seat_a: Sequence[int]) -> tuple[list[tuple[int, int]], int | None]:
    n = len(scores)
    order = sorted(range(n), key=lambda i: (-scores[i], i))
    # bye candidates: lowest-ranked first, each at most once
    candidates = [i for i in reversed(order) if i not in had_bye] if n % 2 else [None]
    for bye in candidates:
        rest = [i for i in order if i != bye]
        pairs = _pair(rest, played)
        if pairs is not None:
            # the candidate that sat first less often takes seat A
            seated = [(a, b) if (seat_a[a], a) <= (seat_a[b], b) else (b, a) for a, b in pairs]
            return seated, bye
    raise ValueError(f"no pairing without rematches exists for {n} candidates after {len(played)} games; "
                     "use fewer rounds")


def swiss_tournament(n: int, match: MatchFn, rounds: int | None = None) -> SwissResult:
    if n < 1:
        raise ValueError("a tournament needs at least one candidate")
    rounds = min_rounds(n) if rounds is None else rounds
    if rounds < min_rounds(n):
        raise ValueError(f"{n} candidates need at least {min_rounds(n)} rounds, got {rounds}")
    result = SwissResult(n=n, scores=[0.0] * n, seat_a=[0] * n)
    played: set[frozenset] = set()
    had_bye: set[int] = set()
    for _ in range(rounds):
        pairs, bye = swiss_pairings(result.scores, played, had_bye, result.seat_a)
        games = []
        for a, b in pairs:
            outcome = float(match(a, b))
            if outcome not in (0.0, 0.5, 1.0):
                raise ValueError(f"match() must return 1, 0.5 or 0, got {outcome}")
            result.scores[a] += outcome
            result.scores[b] += 1.0 - outcome
            result.seat_a[a] += 1
            played.add(frozenset((a, b)))
            games.append((a, b, outcome))
        if bye is not None:
            had_bye.add(bye)
            result.byes.append(bye)
            result.scores[bye] += 1.0
        result.rounds.append(games)
    return result


def bradley_terry(n: int, games: Sequence[tuple[int, int, float]], iters: int = 200, prior: float = 0.1) -> list[float]:
    """Log-strengths from pairwise outcomes (MM algorithm; ties count half a win each way).

    A small prior (``prior`` virtual games against an average opponent) keeps unbeaten or winless
    candidates finite.
    """
    wins = [prior] * n
    pair_counts: Counter = Counter()
    for a, b, outcome in games:
        wins[a] += outcome
        wins[b] += 1.0 - outcome
        pair_counts[(min(a, b), max(a, b))] += 1
    p = [1.0] * n
    for _ in range(iters):
        new = []
        for i in range(n):
            denom = 2 * prior / (p[i] + 1.0)  # the virtual games against strength 1
            for (a, b), c in pair_counts.items():
                if i in (a, b):
                    j = b if a == i else a
                    denom += c / (p[i] + p[j])
            new.append(wins[i] / denom)
        geo = math.exp(sum(math.log(x) for x in new) / n)
        p = [x / geo for x in new]
    return [math.log(x) for x in p]
