"""Several strategies simulated on common random numbers: the input of a CEA."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, final

import attrs
import numpy as np
import pandas as pd

from carepath._errors import InvalidParameter

from ._model import SimulationModel, WrongType
from ._outcomes import patient_outcomes
from ._psa import UncertainModel
from ._result import SimulationResult

__all__ = ["Strategies", "simulate_strategies"]


@final
@attrs.frozen(kw_only=True, eq=False)
class Strategies:
    """Strategies simulated on the same patients, random numbers and parameter draws.

    Every strategy ran with the same seed: patient ``i`` draws the same numbers for
    the same purpose under each, and parameter sample ``s`` of a parameter named
    alike (``"drop_out[iop]"``) has the same value under each, so differences
    reflect the strategies, not the luck of the draw. Feed it to
    :func:`carepath.econ.cea`.

    Attributes:
        results: Each strategy's :class:`SimulationResult`, in the order given.
        samples: Parameter samples per strategy (``None``: one run, sample 0).
        parameters: The parameter draws per sample (index ``sample``, one column per
            uncertain parameter of any strategy), or ``None`` without samples.
    """

    results: Mapping[str, SimulationResult]
    samples: int | None = None
    parameters: pd.DataFrame | None = None

    @classmethod
    def of(cls, results: Mapping[str, SimulationResult]) -> Strategies:
        """Strategies from results simulated elsewhere (on common random numbers)."""
        if not results:
            raise InvalidParameter(parameter="strategies", problem="give at least one strategy")
        for name, r in results.items():
            if not isinstance(r, SimulationResult):
                raise WrongType(
                    parameter=f"strategies[{name!r}]",
                    problem=f"expected a SimulationResult, got {type(r).__name__}",
                )
        counts: set[int] = {
            int(r.metadata["samples"])
            for r in results.values()
            if r.metadata.get("samples") is not None
        }
        if len(counts) > 1:
            raise InvalidParameter(
                parameter="strategies",
                problem="results with different numbers of parameter samples "
                f"({', '.join(map(str, sorted(counts)))}); simulate every strategy with the "
                "same samples=K",
            )
        return cls(results=dict(results), samples=next(iter(counts), None))

    def patients(self) -> pd.DataFrame:
        """Every strategy's :func:`patient_outcomes`, with a first column ``strategy``."""
        frames = []
        for name, r in self.results.items():
            f = patient_outcomes(r)
            f.insert(0, "strategy", name)
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out["strategy"] = pd.Categorical(out["strategy"], categories=list(self.results))
        return out

    def outcomes(self) -> pd.DataFrame:
        """Mean cost (and QALYs, when every strategy's model gives utilities) per patient,
        per strategy and sample: the tidy table ``strategy, sample, cost, qalys``."""
        k = self.samples or 1
        rows: dict[str, list[Any]] = {"strategy": [], "sample": [], "cost": [], "qalys": []}
        with_q = True
        for name, r in self.results.items():
            f = patient_outcomes(r)
            own = int(r.metadata.get("samples") or 1)
            n = int(r.metadata["n"])
            cost = f["cost"].to_numpy().reshape(own, n).mean(axis=1)
            qalys = (
                f["qalys"].to_numpy().reshape(own, n).mean(axis=1)
                if "qalys" in f.columns
                else np.full(own, np.nan)
            )
            with_q &= "qalys" in f.columns
            if own != k:  # a model without distributions: the same in every sample
                cost, qalys = np.repeat(cost, k), np.repeat(qalys, k)
            rows["strategy"].extend([name] * k)
            rows["sample"].extend(range(k))
            rows["cost"].extend(cost.tolist())
            rows["qalys"].extend(qalys.tolist())
        out = pd.DataFrame(rows)
        out["strategy"] = pd.Categorical(out["strategy"], categories=list(self.results))
        if not with_q:
            out = out.drop(columns="qalys")
        return out


def simulate_strategies(
    strategies: Mapping[str, SimulationModel | UncertainModel],
    *,
    n: int,
    seed: int,
    days: int | None,
    samples: int | None,
    **options: Any,
) -> Strategies:
    """Simulate each strategy with the same seed (and parameter samples)."""
    from ._simulate import simulate  # noqa: PLC0415  # that module calls this one

    if not isinstance(strategies, Mapping) or not strategies:
        raise InvalidParameter(
            parameter="strategies", problem="expected a non-empty mapping of names to models"
        )
    uncertain = any(isinstance(m, UncertainModel) for m in strategies.values())
    if uncertain and samples is None:
        raise InvalidParameter(
            parameter="samples",
            problem="a strategy has distributions: give samples=K (parameter draws)",
        )
    results: dict[str, SimulationResult] = {}
    draws: list[pd.DataFrame] = []
    for name, model in strategies.items():
        if not isinstance(model, SimulationModel | UncertainModel):
            raise WrongType(
                parameter=f"strategies[{name!r}]",
                problem=f"expected a SimulationModel or an UncertainModel, got "
                f"{type(model).__name__}",
            )
        if isinstance(model, UncertainModel):
            results[str(name)] = simulate(
                model, n=n, seed=seed, days=days, samples=samples, **options
            )
            draws.append(model.draws(seed, samples or 1))
        else:
            results[str(name)] = simulate(model, n=n, seed=seed, days=days, **options)
    parameters = None
    if draws:
        parameters = pd.concat(draws, axis=1)
        parameters = parameters.loc[:, ~parameters.columns.duplicated()]
    return Strategies(
        results=results, samples=samples if uncertain else None, parameters=parameters
    )
