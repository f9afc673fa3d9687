"""carepath: a typed state machine for a patient's course through levels of addiction care.

>>> from datetime import datetime, timezone
>>> import carepath
>>> carepath.place(carepath.Assessment(withdrawal=3)).level.name
'Withdrawal management (detox)'
"""

from . import definitions as definitions
from . import levels as levels
from ._assessment import Assessment as Assessment
from ._assessment import Dimension as Dimension
from ._assessment import Risk as Risk
from ._criteria import Criteria as Criteria
from ._criteria import Placement as Placement
from ._criteria import Ruling as Ruling
from ._episode import Episode as Episode
from ._episode import EventRecord as EventRecord
from ._errors import CarepathError as CarepathError
from ._errors import ConcurrencyConflict as ConcurrencyConflict
from ._errors import CorruptRecord as CorruptRecord
from ._errors import DefinitionProblem as DefinitionProblem
from ._errors import EpisodeLoadError as EpisodeLoadError
from ._errors import EpisodeNotFound as EpisodeNotFound
from ._errors import ExploreError as ExploreError
from ._errors import InteropError as InteropError
from ._errors import InvalidArgument as InvalidArgument
from ._errors import InvalidAssessment as InvalidAssessment
from ._errors import InvalidEvent as InvalidEvent
from ._errors import InvalidParameter as InvalidParameter
from ._errors import PathwayDefinitionError as PathwayDefinitionError
from ._errors import PathwayError as PathwayError
from ._errors import PathwayMismatch as PathwayMismatch
from ._errors import StoreError as StoreError
from ._errors import TransitionRejected as TransitionRejected
from ._errors import UnknownLevel as UnknownLevel
from ._extras import MissingExtra as MissingExtra
from ._guards import Decision as Decision
from ._guards import Event as Event
from ._guards import FitsCriteria as FitsCriteria
from ._guards import Guard as Guard
from ._guards import GuardContext as GuardContext
from ._guards import MaximumStay as MaximumStay
from ._guards import MinimumStay as MinimumStay
from ._guards import NeedsMoreCare as NeedsMoreCare
from ._guards import NoHigherNeed as NoHigherNeed
from ._guards import Override as Override
from ._guards import PlacementMatches as PlacementMatches
from ._guards import Reason as Reason
from ._guards import RelapsePlacement as RelapsePlacement
from ._guards import RiskAtLeast as RiskAtLeast
from ._guards import RiskAtMost as RiskAtMost
from ._levels import INTAKE as INTAKE
from ._levels import Level as Level
from ._levels import Outcome as Outcome
from ._levels import Setting as Setting
from ._levels import StayRule as StayRule
from ._pathway import Pathway as Pathway
from ._pathway import Rule as Rule
from ._pathway import default_rules as default_rules
from ._pathway import place as place
from ._pathway import standard_pathway as standard_pathway
from ._problems import Problem as Problem
from ._reasons import DiscrepancyReason as DiscrepancyReason
from .definitions import GuardFactory as GuardFactory
from .definitions import catalogs as catalogs
from .definitions import definition_schema as definition_schema
from .definitions import load_catalog as load_catalog

__version__ = "0.1.0.dev0"

__all__ = [
    "INTAKE",
    "Assessment",
    "CarepathError",
    "ConcurrencyConflict",
    "CorruptRecord",
    "Criteria",
    "Decision",
    "DefinitionProblem",
    "Dimension",
    "DiscrepancyReason",
    "Episode",
    "EpisodeLoadError",
    "EpisodeNotFound",
    "Event",
    "EventRecord",
    "ExploreError",
    "FitsCriteria",
    "Guard",
    "GuardContext",
    "GuardFactory",
    "InteropError",
    "InvalidArgument",
    "InvalidAssessment",
    "InvalidEvent",
    "InvalidParameter",
    "Level",
    "MaximumStay",
    "MinimumStay",
    "MissingExtra",
    "NeedsMoreCare",
    "NoHigherNeed",
    "Outcome",
    "Override",
    "Pathway",
    "PathwayDefinitionError",
    "PathwayError",
    "PathwayMismatch",
    "Placement",
    "PlacementMatches",
    "Problem",
    "Reason",
    "RelapsePlacement",
    "Risk",
    "RiskAtLeast",
    "RiskAtMost",
    "Rule",
    "Ruling",
    "Setting",
    "StayRule",
    "StoreError",
    "TransitionRejected",
    "UnknownLevel",
    "catalogs",
    "default_rules",
    "definition_schema",
    "load_catalog",
    "place",
    "standard_pathway",
]


def _show_public_errors_as_carepath() -> None:
    """Tracebacks name public errors as ``carepath.InvalidEvent``, not ``carepath._errors...``."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) and issubclass(obj, BaseException):
            obj.__module__ = __name__


_show_public_errors_as_carepath()
