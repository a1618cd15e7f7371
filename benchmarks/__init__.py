"""``make bench``: autodiff_nb measured against hand-written numpy and PyTorch, in one process.

Modules, in the order data flows through them:

- ``environment``  what machine, BLAS and thread settings the numbers were taken on
- ``workloads``    the work (A ... K): inputs, our engine's version of it, the issue's targets
- ``baselines``    the same work written by hand in numpy, and in PyTorch when it is installed
- ``timing``       interleaved repeats and medians; peak memory with tracemalloc
- ``runner``       runs every workload (or one tiny pass of each: ``--smoke``) into a plain result dict
- ``report``       that dict -> the text table, or JSON
- ``profiling``    cProfile (or a plain loop for py-spy) of the engine on one workload

Run: ``make bench`` (threads pinned to 1), ``python -m benchmarks --smoke``, ``--json [PATH]``,
``--only A,B``.
"""
