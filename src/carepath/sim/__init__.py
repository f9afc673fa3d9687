"""Cohort simulation driven by the pathway's own rules (extra ``sim``: numpy, pandas, pyarrow).

>>> from carepath.sim import SimulationModel, simulate
>>> result = simulate(SimulationModel.default(), n=200, seed=1, days=120)
>>> result.events["event"].iloc[0]
'admit'
"""

from carepath._errors import InvalidParameter as InvalidParameter

from ._model import AssessedCohort as AssessedCohort
from ._model import CohortClass as CohortClass
from ._model import SimulationModel as SimulationModel
from ._model import SyntheticCohort as SyntheticCohort
from ._random import Stream as Stream
from ._random import uniform as uniform
from ._random import uniforms as uniforms
from ._result import SimulationResult as SimulationResult
from ._result import Summary as Summary
from ._simulate import Comparison as Comparison
from ._simulate import compare as compare
from ._simulate import simulate as simulate

__all__ = [
    "AssessedCohort",
    "CohortClass",
    "Comparison",
    "InvalidParameter",
    "SimulationModel",
    "SimulationResult",
    "Stream",
    "Summary",
    "SyntheticCohort",
    "compare",
    "simulate",
    "uniform",
    "uniforms",
]
