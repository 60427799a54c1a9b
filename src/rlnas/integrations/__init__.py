"""rlnas strategies inside other tools: an Optuna sampler and a Ray Tune searcher.

``rlnas.integrations.optuna.RLSampler`` and ``rlnas.integrations.tune.RLSearcher`` import
Optuna and Ray only when their module is imported, so ``import rlnas`` stays light.
"""
