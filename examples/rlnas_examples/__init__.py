"""Examples of the user's own code that rlnas searches: a model family and an evaluator.

Importable once ``examples/`` is on the path (``PYTHONPATH=examples``), so that
``--space rlnas_examples.models:TinyConvNet`` and
``--evaluator rlnas_examples.scoring:evaluate`` work on the command line and in TOML files.
"""
