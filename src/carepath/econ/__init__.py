"""Health-economic evaluation (extra ``sim``; plots need ``viz``).

Every figure is a reduction of one tidy table: mean cost and QALYs per patient
for each strategy and parameter sample. The table comes from strategies
simulated on common random numbers (:func:`carepath.sim.compare` given a
mapping) or from anywhere else.

>>> import pandas as pd
>>> from carepath.econ import cea
>>> table = pd.DataFrame({"strategy": ["usual", "step-down"], "cost": [9_000.0, 9_800.0],
...                       "qalys": [0.70, 0.72]})
>>> cea(table, wtp=50_000).frontier[["strategy", "icer", "status"]]
    strategy     icer status
0      usual      NaN     ND
1  step-down  40000.0     ND
"""

from ._cea import CEA as CEA
from ._cea import Status as Status
from ._cea import cea as cea
from ._cea import icers as icers
from ._dsa import OneWay as OneWay
from ._dsa import TwoWay as TwoWay
from ._dsa import one_way as one_way
from ._dsa import ranges as ranges
from ._dsa import simulated as simulated
from ._dsa import two_way as two_way
from ._plots import plot_ce_plane as plot_ce_plane
from ._plots import plot_ceac as plot_ceac
from ._plots import plot_evpi as plot_evpi
from ._plots import plot_tornado as plot_tornado
from ._table import InvalidAnalysis as InvalidAnalysis
from ._table import Outcomes as Outcomes
from ._voi import EVPPI as EVPPI
from ._voi import evppi as evppi
from ._voi import smooth as smooth

__all__ = [
    "CEA",
    "EVPPI",
    "InvalidAnalysis",
    "OneWay",
    "Outcomes",
    "Status",
    "TwoWay",
    "cea",
    "evppi",
    "icers",
    "one_way",
    "plot_ce_plane",
    "plot_ceac",
    "plot_evpi",
    "plot_tornado",
    "ranges",
    "simulated",
    "smooth",
    "two_way",
]
