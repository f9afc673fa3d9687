"""Cohort simulation driven by the pathway's own rules (extra ``sim``: numpy, pandas, pyarrow).

Two engines give the same rows for the same seed: the fast engine (numpy arrays,
the default) and the reference engine (real :class:`~carepath.Episode` objects).
Work goes out in blocks of patients to any ``concurrent.futures.Executor``.

>>> from carepath.sim import SimulationModel, simulate
>>> result = simulate(SimulationModel.default(), n=200, seed=1, days=120)
>>> result.events["event"].iloc[0]
'admit'
"""

# ruff: noqa: E402  # the extra is checked before any module of this package imports it
from carepath._extras import require as _require

for _module in ("numpy", "pandas"):
    _require(_module, extra="sim", needed_for="carepath.sim")
del _module

from carepath._errors import InvalidParameter as InvalidParameter

from ._compile import ArrayGuard as ArrayGuard
from ._compile import GuardArrays as GuardArrays
from ._fit import FittedModel as FittedModel
from ._fit import fit as fit
from ._measures import measures as measures
from ._model import AssessedCohort as AssessedCohort
from ._model import CohortClass as CohortClass
from ._model import SimulationModel as SimulationModel
from ._model import SyntheticCohort as SyntheticCohort
from ._outcomes import discounted_days as discounted_days
from ._outcomes import patient_outcomes as patient_outcomes
from ._psa import Beta as Beta
from ._psa import Distribution as Distribution
from ._psa import Fixed as Fixed
from ._psa import Gamma as Gamma
from ._psa import LogNormal as LogNormal
from ._psa import UncertainModel as UncertainModel
from ._psa import Uniform as Uniform
from ._random import Stream as Stream
from ._random import uniform as uniform
from ._random import uniforms as uniforms
from ._records import CareRecords as CareRecords
from ._records import InvalidRecords as InvalidRecords
from ._records import records as records
from ._result import SimulationResult as SimulationResult
from ._simulate import Comparison as Comparison
from ._simulate import SimulationWarning as SimulationWarning
from ._simulate import compare as compare
from ._simulate import engine_for as engine_for
from ._simulate import simulate as simulate
from ._strategies import Strategies as Strategies
from ._summary import Summary as Summary

__all__ = [
    "ArrayGuard",
    "AssessedCohort",
    "Beta",
    "CareRecords",
    "CohortClass",
    "Comparison",
    "Distribution",
    "FittedModel",
    "Fixed",
    "Gamma",
    "GuardArrays",
    "InvalidParameter",
    "InvalidRecords",
    "LogNormal",
    "SimulationModel",
    "SimulationResult",
    "SimulationWarning",
    "Strategies",
    "Stream",
    "Summary",
    "SyntheticCohort",
    "UncertainModel",
    "Uniform",
    "compare",
    "discounted_days",
    "engine_for",
    "fit",
    "measures",
    "patient_outcomes",
    "records",
    "simulate",
    "uniform",
    "uniforms",
]
