"""2-D and 3-D coordinates of the customers for plots (principal components)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.utils import check_array

from segwise.errors import InputError

Matrix = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Projection:
    """Customers on the first principal components, with each component's variance share.

    ``coords_2d`` is the first two columns of ``coords_3d``; the explained variance lists
    are shares of the total variance, in [0, 1] and descending. Components a table with
    fewer than 3 features (or rows) lacks are zero columns with share 0.
    """

    coords_2d: Matrix
    coords_3d: Matrix
    explained_variance_2d: list[float]
    explained_variance_3d: list[float]


def project(X: Any, *, seed: int = 0) -> Projection:
    """Project the preprocessed customer matrix on its first 3 principal components."""
    data = check_array(X, dtype=np.float64)
    n, d = data.shape
    if n < 2:
        raise InputError(f"a projection needs at least 2 customers, got {n}")
    m = min(3, d, n)
    pca = PCA(n_components=m, random_state=seed)
    coords = np.zeros((n, 3), dtype=np.float64)
    coords[:, :m] = pca.fit_transform(data)
    shares = np.zeros(3, dtype=np.float64)
    shares[:m] = np.nan_to_num(pca.explained_variance_ratio_, nan=0.0)
    shares = np.clip(shares, 0.0, 1.0)
    return Projection(
        coords_2d=coords[:, :2],
        coords_3d=coords,
        explained_variance_2d=[float(s) for s in shares[:2]],
        explained_variance_3d=[float(s) for s in shares],
    )
