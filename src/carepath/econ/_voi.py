"""Value of information: EVPPI by regression (Strong, Oakley and Brennan 2014).

The expected value of partial perfect information for a group of parameters
``phi`` is ``E_phi[max_d E(NB_d | phi)] - max_d E(NB_d)``. Strong et al. estimate
the inner conditional expectation by regressing each strategy's incremental net
benefit on the sampled values of ``phi`` across the PSA samples (they use a GAM,
``mgcv::gam``; dampack's ``calc_evppi`` does the same). Here the regression is an
additive penalised regression spline (P-splines, Eilers and Marx 1996): a cubic
B-spline basis per parameter with a second-order difference penalty, one smoothing
parameter per response chosen by generalised cross-validation, solved with numpy
for every strategy and willingness to pay at once. As with any additive GAM,
interactions between the parameters of a group are not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from ._table import F64, InvalidAnalysis, Outcomes, outcomes_of, wtp_values

__all__ = ["EVPPI", "evppi", "smooth"]

_KNOTS: Final = 12
"""Interior knots per parameter (at quantiles of its values)."""
_LAMBDAS: Final = np.logspace(-6, 6, 49)


@final
@attrs.frozen(kw_only=True, eq=False)
class EVPPI:
    """Expected value of partial perfect information for a group of parameters.

    Attributes:
        parameters: The group.
        evppi: Per patient, index ``wtp``.
        evpi: The EVPI on the same samples, for comparison (EVPPI <= EVPI up to
            regression error).
    """

    parameters: tuple[str, ...]
    evppi: pd.Series
    evpi: pd.Series


def _bspline(x: F64, knots: int) -> F64:
    """Cubic B-spline basis of ``x`` (knots at quantiles), shape (len(x), knots + 4)."""
    inner = np.unique(np.quantile(x, np.linspace(0, 1, knots + 2)))
    lo, hi = inner[0], inner[-1]
    step = (hi - lo) / max(inner.size - 1, 1) or 1.0
    t = np.concatenate([lo - step * np.arange(3, 0, -1), inner, hi + step * np.arange(1, 4)])
    # Cox-de Boor recursion, vectorised over x.
    basis = ((t[:-1][None, :] <= x[:, None]) & (x[:, None] < t[1:][None, :])).astype(np.float64)
    basis[x >= hi, inner.size + 1] = 1.0  # the right end belongs to the last interval
    for d in range(1, 4):
        left_den = t[d:-1] - t[: -d - 1]
        right_den = t[d + 1 :] - t[1:-d]
        left = np.where(
            left_den > 0, (x[:, None] - t[: -d - 1]) / np.where(left_den > 0, left_den, 1), 0
        )
        right = np.where(
            right_den > 0, (t[d + 1 :] - x[:, None]) / np.where(right_den > 0, right_den, 1), 0
        )
        basis = left * basis[:, :-1] + right * basis[:, 1:]
    return basis


def smooth(x: F64 | pd.DataFrame, y: F64) -> F64:
    """Fitted values of an additive penalised spline regression of ``y`` on ``x``.

    Args:
        x: Shape ``(n, p)`` (or ``(n,)``): the regressors.
        y: Shape ``(n, r)`` (or ``(n,)``): ``r`` responses, each with its own smoothing
            parameter chosen by generalised cross-validation.

    Returns:
        The fitted values, the shape of ``y``.
    """
    xs = np.asarray(x, dtype=np.float64)
    xs = xs[:, None] if xs.ndim == 1 else xs
    ys = np.asarray(y, dtype=np.float64)
    flat = ys.ndim == 1
    ys = ys[:, None] if flat else ys
    n = xs.shape[0]
    blocks = [np.ones((n, 1))]
    penalties = [np.zeros((1, 1))]
    for j in range(xs.shape[1]):
        b = _bspline(xs[:, j], min(_KNOTS, max(1, n // 20)))
        b = b - b.mean(axis=0)  # the intercept is its own column
        d = np.diff(np.eye(b.shape[1]), n=2, axis=0)
        blocks.append(b)
        penalties.append(d.T @ d)
    basis = np.hstack(blocks)
    q = basis.shape[1]
    penalty = np.zeros((q, q))
    at = 0
    for p in penalties:
        penalty[at : at + p.shape[0], at : at + p.shape[0]] = p
        at += p.shape[0]
    gram = basis.T @ basis
    gram += np.eye(q) * (1e-9 * np.trace(gram) / q)  # centred blocks share the constant
    chol = np.linalg.cholesky(gram)
    inv = np.linalg.inv(chol)
    s, u = np.linalg.eigh(inv @ penalty @ inv.T)
    s = np.clip(s, 0.0, None)
    qmat = basis @ (inv.T @ u)  # orthonormal columns (up to the tiny ridge)
    z = qmat.T @ ys  # (q, r)
    shrink = 1.0 / (1.0 + _LAMBDAS[:, None] * s[None, :])  # (lambdas, q)
    total = (ys * ys).sum(axis=0)
    rss = total[None, :] - (2 * shrink - shrink**2) @ (z * z)  # (lambdas, r)
    rss = np.maximum(rss, 0.0)
    dof = shrink.sum(axis=1)
    gcv = n * rss / np.maximum(n - dof, 1e-9)[:, None] ** 2
    pick = gcv.argmin(axis=0)  # per response
    fitted: F64 = qmat @ (shrink[pick].T * z)
    return fitted[:, 0] if flat else fitted


def evppi(results: object, parameters: Sequence[str], *, wtp: object) -> EVPPI:
    """EVPPI of a group of parameters by regression on the PSA samples.

    Args:
        results: A :class:`~carepath.econ.CEA`'s outcomes, an :class:`Outcomes` with
            ``parameters``, or simulated strategies carrying their parameter draws.
        parameters: The group: column names of the per-sample parameter table
            (e.g. ``"continuation[inpatient]"``).
        wtp: Willingness-to-pay value(s) per QALY.
    """
    out: Outcomes = outcomes_of(getattr(results, "outcomes", results))
    grid = wtp_values(wtp)
    group = (parameters,) if isinstance(parameters, str) else tuple(parameters)
    if out.parameters is None:
        raise InvalidAnalysis(
            field="parameters",
            problem="these results carry no parameter values per sample; pass "
            "parameters=DataFrame (index sample) to cea()",
        )
    if not group:
        raise InvalidAnalysis(field="parameters", problem="name at least one parameter")
    missing = [g for g in group if g not in out.parameters.columns]
    if missing:
        raise InvalidAnalysis(
            field="parameters",
            problem=f"unknown parameter(s) {missing}; known: "
            + ", ".join(map(str, out.parameters.columns)),
        )
    x = out.parameters[list(group)].to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        raise InvalidAnalysis(field="parameters", problem="parameter values must be finite")
    varies = np.ptp(x, axis=0) > 0
    if not varies.any():
        raise InvalidAnalysis(field="parameters", problem="the group does not vary across samples")
    x = x[:, varies]
    nmb: npt.NDArray[np.float64] = grid[:, None, None] * out.qalys[None] - out.cost[None]
    w, s, k = nmb.shape
    inc = nmb[:, 1:, :] - nmb[:, :1, :]  # vs the first strategy: (wtp, s - 1, k)
    fitted = smooth(x, inc.reshape(-1, k).T).T.reshape(w, s - 1, k) if s > 1 else inc
    zero = np.zeros((w, 1, k))
    full = np.concatenate([zero, fitted], axis=1)
    value = full.max(axis=1).mean(axis=1) - full.mean(axis=2).max(axis=1)
    evpi = nmb.max(axis=1).mean(axis=1) - nmb.mean(axis=2).max(axis=1)
    index = pd.Index(grid, name="wtp")
    return EVPPI(
        parameters=group,
        evppi=pd.Series(np.maximum(value, 0.0), index=index, name="evppi"),
        evpi=pd.Series(np.maximum(evpi, 0.0), index=index, name="evpi"),
    )
