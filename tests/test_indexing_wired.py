"""Indexing through the engine (Tensor.__getitem__, __setitem__ and their gradients) against PyTorch,
on the random keys of test_indexing.py: same values, shapes, gradients and grad_fn names, or the same
exception type and first sentence."""
import pytest

import autodiff_nb as ad
from indexing_wired_cases import CASES, CHECKS

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("case", CASES, ids=lambda v: "")
def test_indexing_through_the_engine_is_pytorchs(torch, check, case):
    check(ad, torch, *case)
