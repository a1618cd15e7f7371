"""The differential fuzz, a few hundred programs per family: the same source text on PyTorch and on
autodiff_nb must agree in values, gradients, dtypes, shapes, autograd flags, grad_fn names, repr and
raised errors (``tests/fuzz``). ``make fuzz`` runs many more.

A divergence fails the test unless ``tests/fuzz/known.py`` lists it as open work; an entry there that
no longer matches anything fails the test too, so the list only shrinks when the engine is fixed.
"""
import pytest

import autodiff_nb
from fuzz.programs import FAMILIES
from fuzz.runner import report, run_family

PROGRAMS_PER_FAMILY = 300

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_agrees_with_pytorch(torch, family):
    result = run_family(family, PROGRAMS_PER_FAMILY, torch, autodiff_nb)
    text = report([result])
    assert not result.new, f"new divergences from PyTorch (fix the engine, or list them in known.py):\n{text}"
    stale = [entry.description for entry in result.stale()]
    assert not stale, f"known divergences no longer seen: remove this entry from known.py: {stale}\n{text}"


def test_pytorch_agrees_with_itself(torch):
    """The harness's own check: PyTorch against PyTorch finds nothing, so every divergence above is
    the engine's, not the comparison's (no address, timing or order leaks into what is compared)."""
    results = [run_family(family, 50, torch, torch, examples=False) for family in FAMILIES]
    assert not any(r.new or r.known for r in results), report(results)
