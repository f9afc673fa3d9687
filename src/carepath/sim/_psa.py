"""Probabilistic sensitivity analysis: parameters given as distributions.

A :class:`UncertainModel` is a :class:`SimulationModel` some of whose numbers
are distributions. ``simulate(uncertain, samples=K)`` draws K concrete models;
draw ``s`` of parameter ``name`` comes from a generator keyed by ``(seed, s,
name)`` alone (no state, nothing shared), so any engine, chunking or number of
workers gets the same draws, and adding a parameter does not change the others.
"""

from __future__ import annotations

import copy
import hashlib
import math
import statistics
from collections.abc import Mapping
from typing import Any, Final, final

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from carepath._errors import InvalidParameter

from ._model import SimulationModel, WrongType

__all__ = ["Beta", "Distribution", "Fixed", "Gamma", "LogNormal", "UncertainModel", "Uniform"]


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value > 0)
    ):
        raise InvalidParameter(
            parameter=f"{type(instance).__name__}.{attribute.name}",
            problem=f"{value!r} must be a finite number above 0",
        )


def _finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameter(
            parameter=f"{type(instance).__name__}.{attribute.name}",
            problem=f"{value!r} must be a finite number",
        )


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _finite(instance, attribute, value)
    if value < 0:
        raise InvalidParameter(
            parameter=f"{type(instance).__name__}.{attribute.name}",
            problem=f"{value!r} must be at least 0",
        )


def _tidy(x: float) -> float:
    # 12 significant digits: 5.999999999999999 shows (and compares) as 6.0.
    return float(f"{x:.12g}")


def _mean_sd(owner: str, mean: object, sd: object, *, sd_zero: bool = False) -> tuple[float, float]:
    """``mean`` and ``sd`` as finite floats (mean above 0, sd above 0, or at least 0),
    else :class:`InvalidParameter` naming ``owner.from_mean_sd``."""
    out: list[float] = []
    for name, value in (("mean", mean), ("sd", sd)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidParameter(
                parameter=f"{owner}.from_mean_sd({name})",
                problem=f"{value!r} must be a finite number",
            )
        out.append(float(value))
    m, s = out
    if m <= 0 or s < 0 or (s == 0 and not sd_zero):
        raise InvalidParameter(
            parameter=f"{owner}.from_mean_sd",
            problem=f"mean {m} and sd {s}: the mean must be above 0 and the sd "
            + ("at least 0" if sd_zero else "above 0"),
        )
    return m, s


_DRAWS: Final = 200_000


def _level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidParameter(parameter="level", problem=f"{level!r} is not a level in (0, 1)")
    return float(level)


def _empirical(values: npt.NDArray[np.float64], level: float) -> tuple[float, float]:
    tail = (1 - _level(level)) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return (float(low), float(high))


@final
@attrs.frozen(kw_only=True)
class Beta:
    """Beta(a, b) on [0, 1]: for chances. Mean ``a / (a + b)``.

    >>> Beta(a=30, b=70).mean
    0.3
    """

    a: float = attrs.field(validator=_positive)
    b: float = attrs.field(validator=_positive)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> Beta:
        """The Beta with this mean and standard deviation (method of moments, as hesim's
        ``mom_beta``).

        Raises:
            InvalidParameter: The mean is not inside (0, 1), or the variance is not
                below ``mean * (1 - mean)`` (no Beta has it).

        >>> Beta.from_mean_sd(0.3, 0.1)
        Beta(a=6.0, b=14.0)
        """
        m, s = _mean_sd("Beta", mean, sd)
        if m >= 1 or s * s >= m * (1 - m):
            raise InvalidParameter(
                parameter="Beta.from_mean_sd",
                problem=f"mean {m} and sd {s}: a Beta needs 0 < mean < 1 and "
                f"sd below sqrt(mean * (1 - mean)) = {math.sqrt(max(m * (1 - m), 0.0)):.4g}",
            )
        k = m * (1 - m) / (s * s) - 1
        return cls(a=_tidy(m * k), b=_tidy((1 - m) * k))

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.beta(self.a, self.b))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central interval holding ``level`` of the distribution (estimated from
        200,000 draws of a fixed generator: about three significant digits)."""
        return _empirical(np.random.default_rng(0).beta(self.a, self.b, _DRAWS), level)


@final
@attrs.frozen(kw_only=True)
class Gamma:
    """Gamma with ``shape`` and ``scale`` on [0, inf): for hazards and costs.
    Mean ``shape * scale``."""

    shape: float = attrs.field(validator=_positive)
    scale: float = attrs.field(validator=_positive)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> Gamma:
        """The Gamma with this mean and standard deviation (method of moments, as
        hesim's ``mom_gamma``): ``shape = (mean / sd)**2``, ``scale = sd**2 / mean``.

        Raises:
            InvalidParameter: The mean or the sd is not above 0.

        >>> Gamma.from_mean_sd(0.02, 0.01)
        Gamma(shape=4.0, scale=0.005)
        """
        m, s = _mean_sd("Gamma", mean, sd)
        return cls(shape=_tidy((m / s) ** 2), scale=_tidy(s * s / m))

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.gamma(self.shape, self.scale))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central interval holding ``level`` (estimated as :meth:`Beta.interval`)."""
        return _empirical(np.random.default_rng(0).gamma(self.shape, self.scale, _DRAWS), level)


@final
@attrs.frozen(kw_only=True)
class LogNormal:
    """exp(Normal(``mu``, ``sigma``)) on (0, inf): for hazards and costs."""

    mu: float = attrs.field(validator=_finite)
    sigma: float = attrs.field(validator=_non_negative)

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> LogNormal:
        """The log-normal with this mean and standard deviation on the natural scale:
        ``sigma**2 = log(1 + (sd / mean)**2)``, ``mu = log(mean) - sigma**2 / 2``.

        Raises:
            InvalidParameter: The mean is not above 0, or the sd is negative.

        >>> d = LogNormal.from_mean_sd(100.0, 50.0)
        >>> round(d.mean, 6)
        100.0
        """
        m, s = _mean_sd("LogNormal", mean, sd, sd_zero=True)
        var = math.log1p((s / m) ** 2)
        return cls(mu=math.log(m) - var / 2, sigma=math.sqrt(var))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(self.mu, self.sigma))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central interval holding ``level`` (exact)."""
        z = statistics.NormalDist().inv_cdf(0.5 + _level(level) / 2)
        return (math.exp(self.mu - z * self.sigma), math.exp(self.mu + z * self.sigma))


@final
@attrs.frozen(kw_only=True)
class Uniform:
    """Uniform on [``low``, ``high``]."""

    low: float = attrs.field(validator=_finite)
    high: float = attrs.field(validator=_finite)

    def __attrs_post_init__(self) -> None:
        if self.high < self.low:
            raise InvalidParameter(
                parameter="Uniform.high", problem=f"{self.high} is below low {self.low}"
            )

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central interval holding ``level`` (exact)."""
        tail = (1 - _level(level)) / 2 * (self.high - self.low)
        return (self.low + tail, self.high - tail)


@final
@attrs.frozen(kw_only=True)
class Fixed:
    """A known value (the same in every sample)."""

    value: float = attrs.field(validator=_finite)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def draw(self, rng: np.random.Generator) -> float:
        return float(self.value)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The value, twice."""
        _level(level)
        return (float(self.value), float(self.value))


Distribution = Beta | Gamma | LogNormal | Uniform | Fixed
"""The distributions a parameter may be given as."""

_CHANCES: Final = frozenset(
    {
        "improvement",
        "continuation",
        "relapse_worsens",
        "readmission",
        "utility",
        "utility_out_of_care",
    }
)
_HAZARDS: Final = frozenset(
    {
        "relapse",
        "drop_out",
        "transfer_out",
        "cost_per_day",
        "cost_per_event",
        "cost_per_patient",
        "relapse_after_discharge",
    }
)
_SCALAR: Final = frozenset({"relapse_after_discharge", "cost_per_patient"})


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def _check_support(path: str, name: str, dist: object) -> None:
    if not isinstance(dist, Beta | Gamma | LogNormal | Uniform | Fixed):
        raise InvalidParameter(
            parameter=path,
            problem="expected a distribution (Beta, Gamma, "
            f"LogNormal, Uniform or Fixed), got {type(dist).__name__}",
        )
    low, high = dist.support
    if low < 0:
        raise InvalidParameter(parameter=path, problem=f"{dist!r} can be negative")
    if name in _CHANCES and high > 1:
        raise InvalidParameter(
            parameter=path,
            problem=f"{dist!r} can exceed 1; a chance "
            "or utility needs a distribution on [0, 1] (Beta, or Uniform within it)",
        )


def _distributions(value: object) -> dict[str, Distribution | dict[str, Distribution]]:
    if not isinstance(value, Mapping):
        raise WrongType(
            parameter="distributions",
            problem="expected a mapping of parameter "
            f"names to distributions, got {type(value).__name__}",
        )
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}


@final
@attrs.frozen(kw_only=True, eq=False)
class UncertainModel:
    """A model whose parameters are partly given as distributions (build with
    :meth:`SimulationModel.with_distributions`).

    Attributes:
        model: The base model: every parameter not given as a distribution.
        distributions: Parameter name to a distribution (``relapse_after_discharge``)
            or to a mapping of level / outcome / dimension to distributions.
    """

    model: SimulationModel = attrs.field(validator=attrs.validators.instance_of(SimulationModel))
    distributions: Mapping[str, Distribution | Mapping[str, Distribution]] = attrs.field(
        converter=_distributions
    )
    _checked: bool = attrs.field(default=False, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        for name, value in self.distributions.items():
            if name not in _CHANCES | _HAZARDS:
                raise InvalidParameter(
                    parameter=name,
                    problem="not a parameter that may be "
                    "uncertain; allowed: " + ", ".join(sorted(_CHANCES | _HAZARDS)),
                )
            if name in _SCALAR:
                _check_support(name, name, value)
            elif not isinstance(value, Mapping):
                raise InvalidParameter(
                    parameter=name, problem="expected a mapping of names to distributions"
                )
            else:
                for key, dist in value.items():
                    _check_support(f"{name}[{key!r}]", name, dist)
        self.mean_model()  # the base model's own checks: known levels, outcomes, dimensions

    def _build(self, pick: dict[str, float]) -> SimulationModel:
        changes: dict[str, Any] = {}
        for name, value in self.distributions.items():
            if isinstance(value, Mapping):
                current: Mapping[str, float] = getattr(self.model, name)
                changes[name] = {**current, **{k: float(pick[f"{name}[{k}]"]) for k in value}}
            else:
                changes[name] = float(pick[name])
        if not self._checked:
            # The first build runs the model's own checks (known levels, outcomes...);
            # later ones only change values inside their distributions' supports,
            # checked with the distributions, so they copy without checking again (a
            # PSA builds one model per sample).
            model = attrs.evolve(self.model, **changes)
            object.__setattr__(self, "_checked", True)
            return model
        model = copy.copy(self.model)
        for name, value in changes.items():
            object.__setattr__(model, name, value)
        return model

    def _items(self) -> list[tuple[str, Distribution]]:
        out: list[tuple[str, Distribution]] = []
        for name, value in sorted(self.distributions.items()):
            if isinstance(value, Mapping):
                out.extend((f"{name}[{k}]", d) for k, d in sorted(value.items()))
            else:
                out.append((name, value))
        return out

    def mean_model(self) -> SimulationModel:
        """The model with every distribution replaced by its mean."""
        return self._build({path: d.mean for path, d in self._items()})

    def draw(self, seed: int, sample: int) -> SimulationModel:
        """Parameter draw ``sample`` for ``seed`` (the same for the same pair, always)."""
        return self._build(self._pick(seed, sample))

    def _pick(self, seed: int, sample: int) -> dict[str, float]:
        pick: dict[str, float] = {}
        for path, dist in self._items():
            rng = np.random.default_rng([seed, sample, _key(path)])
            pick[path] = dist.draw(rng)
        return pick

    def names(self) -> tuple[str, ...]:
        """The uncertain parameters, as named in :meth:`draws` (``"continuation[inpatient]"``,
        ``"relapse_after_discharge"``)."""
        return tuple(path for path, _ in self._items())

    def distribution(self, name: str) -> Distribution:
        """The distribution of one uncertain parameter (a name of :meth:`names`)."""
        for path, dist in self._items():
            if path == name:
                return dist
        raise InvalidParameter(
            parameter=name, problem="not an uncertain parameter; known: " + ", ".join(self.names())
        )

    def draws(self, seed: int, samples: int) -> pd.DataFrame:
        """Every uncertain parameter's draws ``0 .. samples - 1`` for ``seed``: one row per
        sample (index ``sample``), one column per name of :meth:`names`. Row ``s`` holds
        the values of :meth:`draw` ``(seed, s)``."""
        rows = [self._pick(seed, s) for s in range(samples)]
        frame = pd.DataFrame.from_records(rows, columns=list(self.names()))
        frame.index = pd.RangeIndex(samples, name="sample")
        return frame

    def with_values(self, values: Mapping[str, float]) -> SimulationModel:
        """The mean model with some uncertain parameters set to ``values`` (names of
        :meth:`names`; names this model does not have are ignored), e.g. for a
        one-way sensitivity analysis."""
        pick = {path: d.mean for path, d in self._items()}
        pick.update({k: float(v) for k, v in values.items() if k in pick})
        return self._build(pick)

    @property
    def pathway(self) -> object:
        """The pathway of the base model."""
        return self.model.pathway
