"""Differential fuzz: small random programs run as the same source text on PyTorch and on autodiff_nb.

``programs`` writes the programs (one generator per family), ``compare`` runs one program on both and
lists what differed, ``known`` holds the reviewed divergences still open, ``runner`` ties them together
and prints the report. ``make fuzz`` (``tools/fuzz.py``) runs thousands; ``tests/test_fuzz.py`` a few
hundred per family.
"""
