"""Run many programs per family, sort divergences into known (``known.py``) and new, and report."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import known as known_module
from .compare import Divergence, check
from .programs import FAMILIES, generate

SHOWN_PER_FAMILY = 20


@dataclass
class FamilyResult:
    family: str
    programs: int = 0
    new: list[Divergence] = field(default_factory=list)
    known: dict = field(default_factory=dict)   # Known entry -> divergences it matched

    def stale(self):
        """Known entries whose example is in this family and that matched nothing here: fixed, so they
        must leave known.py. (An entry seen in several families is checked in its example's family.)"""
        return [k for k in known_module.entries(self.family)
                if k.example.startswith(self.family + ":") and not self.known.get(k)]


def run_family(family: str, count: int, torch_module, engine_module, start: int = 0,
               examples: bool = True) -> FamilyResult:
    """Programs ``start`` .. ``start + count - 1`` of ``family`` on both libraries, and the example
    program of each known entry of the family, so a fixed entry is noticed however short the run."""
    result = FamilyResult(family)
    entries = known_module.entries(family)
    seeds = list(range(start, start + count))
    extra = {int(k.example.split(":")[1]) for k in entries if examples and k.example.startswith(family + ":")}
    for seed in seeds + sorted(extra - set(seeds)):
        result.programs += 1
        divergence = check(generate(family, seed), torch_module, engine_module)
        if divergence is None:
            continue
        entry = next((k for k in entries if k.matches(divergence)), None)
        if entry is None:
            result.new.append(divergence)
        else:
            result.known.setdefault(entry, []).append(divergence)
    return result


def show(divergence: Divergence) -> str:
    body = "\n".join("    " + line for line in divergence.source.splitlines())
    what = "\n".join("    ! " + line for d in divergence.diffs for line in str(d).splitlines())
    return f"  program {divergence.family}:{divergence.program.seed}\n{body}\n{what}"


def report(results: list[FamilyResult], show_known: bool = False) -> str:
    """Text for a person: new divergences in full, known ones counted per entry, stale entries named."""
    lines = []
    for r in results:
        n_known = sum(len(v) for v in r.known.values())
        lines.append(f"{r.family}: {r.programs} programs, {len(r.new)} new divergences, {n_known} known")
        for divergence in r.new[:SHOWN_PER_FAMILY]:
            lines.append(show(divergence))
        if len(r.new) > SHOWN_PER_FAMILY:
            lines.append(f"  ... and {len(r.new) - SHOWN_PER_FAMILY} more new in {r.family}")
        for entry, matched in sorted(r.known.items(), key=lambda item: -len(item[1])):
            lines.append(f"  known ({len(matched)}): {entry.description}  [issue 10: {entry.bullet}]")
            if show_known:
                lines.append(show(matched[0]))
        for entry in r.stale():
            lines.append(f"  FIXED, remove this entry from known.py: {entry.description}")
    programs = sum(r.programs for r in results)
    new = sum(len(r.new) for r in results)
    n_known = sum(len(v) for r in results for v in r.known.values())
    stale = sum(len(r.stale()) for r in results)
    lines.append(f"{programs} programs, {new + n_known} divergences ({new} new, {n_known} known); "
                 f"{stale} known entries no longer seen")
    return "\n".join(lines)


def families():
    return list(FAMILIES)
