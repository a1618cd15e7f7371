"""Divergences from PyTorch that are known and still open (issue 10), reviewed, in one place.

Each entry names the family it shows up in, a one-line description, the issue-10 bullet it belongs to,
and a predicate over a ``compare.Divergence`` (``d.has(field, torch=..., engine=...)``, ``d.only(...)``,
``d.source``). A divergence that no entry matches is new and fails the fuzz; an entry that matches
nothing in its family's run is stale and fails it too: the engine was fixed, so delete the entry.
These are open work, not deliberate exceptions (the README lists both).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Known:
    family: str
    description: str
    bullet: str
    predicate: Callable

    def matches(self, divergence) -> bool:
        return self.predicate(divergence)


KNOWN: list[Known] = [
]


def entries(family: str) -> list[Known]:
    return [k for k in KNOWN if k.family == family]
