"""The simulation model: a pathway plus the parameters that move synthetic patients.

Everything time-related is in whole days. Hazards are daily rates (any value
>= 0; the daily probability is ``1 - exp(-hazard)``); chances are probabilities
in [0, 1]. Per-level parameters are mappings keyed by level code and must name
every level of the pathway (``cost_per_day`` and ``step_down_to`` may name a
subset).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast, final

import attrs

from carepath._assessment import DIMENSIONS, PROFILE_COUNT, Assessment
from carepath._errors import InvalidParameter
from carepath._levels import Level, Outcome, Setting
from carepath._pathway import Pathway, standard_pathway

if TYPE_CHECKING:
    import pandas as pd

    from ._psa import UncertainModel

__all__ = ["AssessedCohort", "CohortClass", "SimulationModel", "SyntheticCohort"]

MAX_DAYS: Final = 100_000
_OUTCOMES: Final[tuple[str, ...]] = tuple(o.value for o in Outcome)
COSTED_EVENTS: Final = (
    "admit",
    "readmission",
    "step_down",
    "step_up",
    "relapse",
    "complete",
    "drop_out",
    "transfer_out",
)
"""The keys of ``cost_per_event``: the engines' events, and ``readmission`` (an admission
that starts a patient's second or later episode; it costs this instead of ``admit``)."""
_DIMENSION_NAMES: Final[tuple[str, ...]] = tuple(d.value for d in DIMENSIONS)


class WrongType(InvalidParameter, TypeError):
    """A parameter of the wrong kind (not a mapping, not a model...): an
    :class:`~carepath.sim.InvalidParameter` that is still the ``TypeError`` these
    raised before they named the parameter."""


def _bad(parameter: str, problem: str) -> InvalidParameter:
    return InvalidParameter(parameter=parameter, problem=problem)


def _number(parameter: str, value: object) -> float:
    # Any real number (numpy's float32, int64... too), never a bool.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _bad(parameter, f"expected a number, got {type(value).__name__}")
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise _bad(parameter, f"expected a finite number, got {x}")
    return x


def _chance(parameter: str, value: object) -> float:
    x = _number(parameter, value)
    if not 0.0 <= x <= 1.0:
        raise _bad(parameter, f"{x} is not a probability; allowed 0 to 1")
    return x


def _hazard(parameter: str, value: object) -> float:
    x = _number(parameter, value)
    if x < 0.0:
        raise _bad(parameter, f"{x} is negative; a hazard is a daily rate >= 0")
    return x


def _whole(parameter: str, value: object, low: int, high: int | None = None) -> int:
    """``value`` as an int (any integral number, numpy's int64 too, never a bool) in
    ``low .. high``, else :class:`InvalidParameter` naming ``parameter``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _bad(parameter, f"expected a whole number, got {type(value).__name__}")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f"{low} to {high}" if high is not None else f"at least {low}"
        raise _bad(parameter, f"{value} is out of range; allowed {allowed}")
    return value


def _utility(parameter: str, value: object) -> float:
    x = _number(parameter, value)
    if not -1.0 <= x <= 1.0:
        raise _bad(parameter, f"{x} is not a utility; allowed -1 to 1 (1 is full health)")
    return x


def _weight(value: object) -> float:
    return _hazard("cohort class weight", value)


def _jitter(value: object) -> float:
    return _chance("cohort.jitter", value)


def _classes(value: Iterable[CohortClass]) -> tuple[CohortClass, ...]:
    return tuple(value)


def _profiles(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


_MAPPINGS: Final = (
    "reassess_days",
    "improvement",
    "relapse",
    "drop_out",
    "transfer_out",
    "continuation",
    "step_down_to",
    "relapse_worsens",
    "readmission",
    "readmission_delay",
    "cost_per_day",
    "cost_per_event",
    "utility",
    "utility_out_of_care",
)
"""The parameters given as mappings (by level, outcome or dimension)."""


def _mapping(value: object) -> Any:  # checked, with its name, after init
    # A copy of a mapping; anything else is refused by __attrs_post_init__, which
    # knows the parameter's name (a converter does not).
    return dict(value) if isinstance(value, Mapping) else value


@final
@attrs.frozen(kw_only=True)
class CohortClass:
    """One class of the synthetic cohort: a typical profile and its share of patients.

    >>> CohortClass(name="withdrawal", weight=0.2,
    ...             profile=Assessment(withdrawal=3, emotional=2, relapse=3, environment=2))
    CohortClass(name='withdrawal', weight=0.2, profile=Assessment(withdrawal=3, biomedical=0, emotional=2, readiness=0, relapse=3, environment=2))
    """  # noqa: E501

    name: str = attrs.field(validator=attrs.validators.instance_of(str))
    weight: float = attrs.field(converter=_weight)
    profile: Assessment = attrs.field(validator=attrs.validators.instance_of(Assessment))


def _default_classes() -> tuple[CohortClass, ...]:
    def c(name: str, weight: float, *ratings: int) -> CohortClass:
        return CohortClass(
            name=name,
            weight=weight,
            profile=Assessment(**dict(zip(_DIMENSION_NAMES, ratings, strict=True))),
        )

    #      name           weight  wd bio emo rdy rel env
    return (
        c("withdrawal", 0.24, 3, 1, 2, 2, 3, 2),
        c("residential", 0.14, 1, 1, 2, 2, 3, 3),
        c("day_programme", 0.06, 0, 1, 3, 2, 2, 2),
        c("intensive", 0.16, 0, 1, 2, 2, 2, 1),
        c("unsafe_home", 0.05, 0, 0, 1, 1, 1, 3),
        c("outpatient", 0.45, 0, 0, 1, 1, 1, 1),
    )


@final
@attrs.frozen(kw_only=True)
class SyntheticCohort:
    """A generator of starting assessments: a mixture of typical profiles with jitter.

    A patient's class is drawn by ``weight``; each of its six ratings then moves
    down one with chance ``jitter / 2``, up one with chance ``jitter / 2`` (kept
    within 0-4). The default mix (weights and profiles in the simulation guide)
    places about a fifth of patients in detox, a sixth in residential care and a
    third in outpatient care, roughly the mix of admissions in TEDS-A.
    """

    classes: tuple[CohortClass, ...] = attrs.field(factory=_default_classes, converter=_classes)
    jitter: float = attrs.field(default=0.3, converter=_jitter)

    def __attrs_post_init__(self) -> None:
        if not self.classes:
            raise _bad("cohort.classes", "a synthetic cohort needs at least one class")
        for i, k in enumerate(self.classes):
            if not isinstance(k, CohortClass):
                raise _bad(
                    f"cohort.classes[{i}]", f"expected a CohortClass, got {type(k).__name__}"
                )
        if sum(k.weight for k in self.classes) <= 0.0:
            raise _bad("cohort.classes", "the class weights sum to zero")

    def cumulative_weights(self) -> list[float]:
        """The upper edge of each class in [0, 1) (the last one is exactly 1)."""
        total = sum(k.weight for k in self.classes)
        out: list[float] = []
        acc = 0.0
        for k in self.classes:
            acc += k.weight
            out.append(acc / total)
        out[-1] = 1.0
        return out


@final
@attrs.frozen(kw_only=True)
class AssessedCohort:
    """The caller's own starting assessments; patient ``i`` gets profile ``i % len``.

    Build one from a DataFrame with :meth:`from_frame` or pass the frame itself
    as :attr:`SimulationModel.cohort`.
    """

    profiles: tuple[int, ...] = attrs.field(converter=_profiles)

    def __attrs_post_init__(self) -> None:
        if not self.profiles:
            raise _bad("cohort", "the cohort has no assessments")
        for i, p in enumerate(self.profiles):
            if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < PROFILE_COUNT:
                raise _bad(f"cohort.profiles[{i}]", f"{p!r} is not a profile index 0-15624")

    @classmethod
    def from_assessments(cls, assessments: Sequence[Assessment]) -> AssessedCohort:
        """A cohort of the given assessments, in order."""
        return cls(profiles=tuple(a.index for a in assessments))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> AssessedCohort:
        """A cohort from a DataFrame with one integer column (0-4) per dimension.

        Columns: ``withdrawal``, ``biomedical``, ``emotional``, ``readiness``,
        ``relapse``, ``environment``; other columns are ignored.
        """
        missing = [d for d in _DIMENSION_NAMES if d not in frame.columns]
        if missing:
            raise _bad("cohort", "the DataFrame lacks column(s) " + ", ".join(missing))
        profiles: list[int] = []
        columns = [frame[d].tolist() for d in _DIMENSION_NAMES]
        for row, values in enumerate(zip(*columns, strict=True)):
            index = 0
            for name, raw in reversed(list(zip(_DIMENSION_NAMES, values, strict=True))):
                v = int(raw) if isinstance(raw, float) and raw.is_integer() else raw
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 4:
                    raise _bad(f"cohort[{row}].{name}", f"{v!r} is not a rating 0-4")
                index = index * 5 + v
            profiles.append(index)
        return cls(profiles=tuple(profiles))


def _cohort(value: object) -> SyntheticCohort | AssessedCohort:
    if isinstance(value, SyntheticCohort | AssessedCohort):
        return value
    if hasattr(value, "columns") and hasattr(value, "__getitem__"):
        return AssessedCohort.from_frame(cast("pd.DataFrame", value))
    if isinstance(value, Sequence) and all(isinstance(a, Assessment) for a in value):
        return AssessedCohort.from_assessments(value)
    raise _bad(
        "cohort",
        "expected a SyntheticCohort, an AssessedCohort, a DataFrame of "
        f"ratings or a list of Assessments, got {type(value).__name__}",
    )


# -- defaults ----------------------------------------------------------------------------------

# Defaults per standard level. Tuned so that outcome shares per level land near the
# TEDS-D discharge figures and about half of residential / detox discharges get
# follow-up within 30 days (see docs/simulation.md for the comparison and sources).
_STANDARD: Final[dict[str, dict[str, float]]] = {
    #                reassess  improve  relapse  drop_out  transfer  continue
    "detox": {"r": 1, "i": 0.70, "rl": 0.003, "d": 0.042, "t": 0.026, "c": 0.85},
    "inpatient": {"r": 7, "i": 0.30, "rl": 0.004, "d": 0.017, "t": 0.006, "c": 0.75},
    "php": {"r": 7, "i": 0.30, "rl": 0.004, "d": 0.020, "t": 0.007, "c": 0.45},
    "iop": {"r": 7, "i": 0.22, "rl": 0.0025, "d": 0.015, "t": 0.0035, "c": 0.25},
    "sober_living": {"r": 14, "i": 0.10, "rl": 0.0015, "d": 0.0095, "t": 0.0008, "c": 0.00},
    "outpatient": {"r": 14, "i": 0.10, "rl": 0.0015, "d": 0.0095, "t": 0.0008, "c": 0.00},
}

_RELAPSE_WORSENS: Final[dict[str, float]] = {
    "withdrawal": 0.35,
    "biomedical": 0.05,
    "emotional": 0.25,
    "readiness": 0.3,
    "relapse": 1.0,
    "environment": 0.15,
}
_READMISSION: Final[dict[str, float]] = {
    "completed": 0.30,
    "dropped_out": 0.45,
    "transferred_out": 0.15,
}
_READMISSION_DELAY: Final[dict[str, int]] = {
    "completed": 40,
    "dropped_out": 45,
    "transferred_out": 60,
}


def _standard_code(level: Level, pathway: Pathway) -> str:
    """The standard level whose defaults a level of a custom pathway borrows."""
    if level.code in _STANDARD:
        return level.code
    if level.setting is Setting.RESIDENTIAL:
        return "detox" if pathway.criteria_for(level).is_total else "inpatient"
    if level.setting is Setting.DAY:
        return "php"
    if level.setting is Setting.RECOVERY_RESIDENCE:
        return "sober_living"
    return "iop" if level.hours_per_week[0] >= 9.0 else "outpatient"


# -- the model ---------------------------------------------------------------------------------


@final
@attrs.frozen(kw_only=True, hash=False)
class SimulationModel:
    """A pathway and the parameters that move synthetic patients through it.

    Build the documented defaults with :meth:`default` and change what a scenario
    changes with :func:`attrs.evolve` (or :meth:`with_levels`). Every parameter is
    checked when the model is built: a negative hazard, a chance above 1 or a level
    the pathway does not have raises :class:`~carepath.sim.InvalidParameter` naming
    the parameter.

    Attributes:
        pathway: The pathway whose levels, stay rules and guards govern every move.
        cohort: Where starting assessments come from: a :class:`SyntheticCohort`, or
            the caller's own (:class:`AssessedCohort`, a DataFrame of ratings, a list
            of :class:`~carepath.Assessment`).
        reassess_days: Days between reassessments, per level.
        improvement: Weekly chance that each rating above 0 improves by one, per level.
        relapse: Daily hazard of a relapse in care, per level.
        drop_out: Daily hazard of leaving against advice, per level.
        transfer_out: Daily hazard of a transfer to another provider, per level.
        continuation: Chance that a patient ready to leave a level steps down to a
            less intensive one (otherwise the episode completes), per level.
        step_down_to: Where a step-down from a level goes when that level fits (a
            policy, e.g. ``{"inpatient": "iop"}``); otherwise the placement.
        relapse_worsens: Chance that a relapse raises each rating by one, per dimension.
        relapse_after_discharge: Daily hazard of a relapse out of care; a patient
            readmitted after ``k`` days relapsed with chance ``1 - exp(-hazard * k)``.
        readmission: Chance that an episode ending in each outcome is followed by a
            readmission (keys ``completed``, ``dropped_out``, ``transferred_out``).
        readmission_delay: Mean days from each outcome to the readmission
            (geometric, at least 1).
        remission: A patient whose every rating is at or below this is ready to
            complete even at the least intensive level.
        cost_per_day: Cost of a day of care per level (optional; levels left out
            have no cost).
        cost_per_event: Cost of each event (optional), keyed by event: ``admit``,
            ``readmission`` (an admission after the first episode, charged instead
            of ``admit``), ``step_down``, ``step_up``, ``relapse``, ``complete``,
            ``drop_out``, ``transfer_out``; events left out cost nothing.
        cost_per_patient: A one-off cost per patient on day 0 (e.g. an assessment).
        utility: Health utility of a day at each level (QALY weight, at most 1).
            Optional, but a model that gives utilities must give every level and
            every outcome of ``utility_out_of_care``; without them the model
            reports costs only (no default utilities).
        utility_out_of_care: Utility of a day out of care after each outcome
            (``completed``, ``dropped_out``, ``transferred_out``), until a
            readmission or the horizon.
        discount_costs: Annual discount rate of costs (0.03 for 3% a year), applied
            continuously from the day of each cost: a cost ``t`` days ahead is worth
            ``(1 + rate) ** (-t / 365)`` of itself today.
        discount_qalys: Annual discount rate of QALYs, likewise.
        days: The default horizon in days.
    """

    pathway: Pathway = attrs.field(validator=attrs.validators.instance_of(Pathway))
    cohort: SyntheticCohort | AssessedCohort = attrs.field(
        factory=SyntheticCohort, converter=_cohort
    )
    reassess_days: Mapping[str, int] = attrs.field(converter=_mapping)
    improvement: Mapping[str, float] = attrs.field(converter=_mapping)
    relapse: Mapping[str, float] = attrs.field(converter=_mapping)
    drop_out: Mapping[str, float] = attrs.field(converter=_mapping)
    transfer_out: Mapping[str, float] = attrs.field(converter=_mapping)
    continuation: Mapping[str, float] = attrs.field(converter=_mapping)
    step_down_to: Mapping[str, str] = attrs.field(factory=dict, converter=_mapping)
    relapse_worsens: Mapping[str, float] = attrs.field(
        factory=lambda: dict(_RELAPSE_WORSENS), converter=_mapping
    )
    relapse_after_discharge: float = 0.01
    readmission: Mapping[str, float] = attrs.field(
        factory=lambda: dict(_READMISSION), converter=_mapping
    )
    readmission_delay: Mapping[str, int] = attrs.field(
        factory=lambda: dict(_READMISSION_DELAY), converter=_mapping
    )
    remission: int = 0
    cost_per_day: Mapping[str, float] = attrs.field(factory=dict, converter=_mapping)
    cost_per_event: Mapping[str, float] = attrs.field(factory=dict, converter=_mapping)
    cost_per_patient: float = 0.0
    utility: Mapping[str, float] = attrs.field(factory=dict, converter=_mapping)
    utility_out_of_care: Mapping[str, float] = attrs.field(factory=dict, converter=_mapping)
    discount_costs: float = 0.0
    discount_qalys: float = 0.0
    days: int = 365

    def __attrs_post_init__(self) -> None:
        codes = [lv.code for lv in self.pathway.levels]
        known = set(codes)
        for name in _MAPPINGS:
            if not isinstance(getattr(self, name), Mapping):
                raise WrongType(
                    parameter=name,
                    problem="expected a mapping (e.g. by level "
                    f"code), got {type(getattr(self, name)).__name__}",
                )

        def keep(name: str, value: object) -> None:
            # Store the checked value as a plain int / float (numpy scalars come in too).
            object.__setattr__(self, name, value)

        def per_level(name: str, check: Any, *, complete: bool = True) -> None:
            values: Mapping[str, object] = getattr(self, name)
            checked: dict[str, object] = {}
            for key, value in values.items():
                if key not in known:
                    raise _bad(
                        f"{name}[{key!r}]",
                        f"{key!r} is not a level of pathway "
                        f"{self.pathway.id!r}; known: " + ", ".join(codes),
                    )
                checked[key] = check(f"{name}[{key!r}]", value)
            keep(name, checked)
            if complete:
                for code in codes:
                    if code not in values:
                        raise _bad(
                            name,
                            f"no value for level {code!r}; give every level of "
                            f"pathway {self.pathway.id!r}",
                        )

        per_level("reassess_days", lambda p, v: _whole(p, v, 1, 365))
        per_level("improvement", _chance)
        per_level("relapse", _hazard)
        per_level("drop_out", _hazard)
        per_level("transfer_out", _hazard)
        per_level("continuation", _chance)
        per_level("cost_per_day", _hazard, complete=False)

        def target(p: str, v: object) -> str:
            if not isinstance(v, str) or v not in known:
                raise _bad(p, f"{v!r} is not a level of pathway {self.pathway.id!r}")
            return v

        per_level("step_down_to", target, complete=False)
        for src, dst in self.step_down_to.items():
            if self.pathway.level(dst).intensity >= self.pathway.level(src).intensity:
                raise _bad(f"step_down_to[{src!r}]", f"{dst!r} is not less intensive than {src!r}")
        worsens: dict[str, float] = {}
        for key, value in self.relapse_worsens.items():
            if key not in _DIMENSION_NAMES:
                raise _bad(
                    f"relapse_worsens[{key!r}]",
                    "not a dimension; known: " + ", ".join(_DIMENSION_NAMES),
                )
            worsens[key] = _chance(f"relapse_worsens[{key!r}]", value)
        keep("relapse_worsens", worsens)
        for name in ("readmission", "readmission_delay"):
            values = getattr(self, name)
            checked: dict[str, float] = {}
            for key, value in values.items():
                if key not in _OUTCOMES:
                    raise _bad(f"{name}[{key!r}]", "not an outcome; known: " + ", ".join(_OUTCOMES))
                if name == "readmission":
                    checked[key] = _chance(f"{name}[{key!r}]", value)
                else:
                    checked[key] = _whole(f"{name}[{key!r}]", value, 1)
            for key in _OUTCOMES:
                if key not in values:
                    raise _bad(name, f"no value for outcome {key!r}")
            keep(name, checked)
        keep(
            "relapse_after_discharge",
            _hazard("relapse_after_discharge", self.relapse_after_discharge),
        )
        keep("remission", _whole("remission", self.remission, 0, 4))
        self._check_economics(per_level, keep)
        keep("days", _whole("days", self.days, 1, MAX_DAYS))

    def _check_economics(self, per_level: Any, keep: Any) -> None:
        """Costs per event and patient, utilities and discount rates."""
        events: dict[str, float] = {}
        for key, value in self.cost_per_event.items():
            if key not in COSTED_EVENTS:
                raise _bad(
                    f"cost_per_event[{key!r}]", "not an event; known: " + ", ".join(COSTED_EVENTS)
                )
            events[key] = _hazard(f"cost_per_event[{key!r}]", value)
        keep("cost_per_event", events)
        keep("cost_per_patient", _hazard("cost_per_patient", self.cost_per_patient))
        per_level("utility", _utility, complete=bool(self.utility or self.utility_out_of_care))
        out: dict[str, float] = {}
        for key, value in self.utility_out_of_care.items():
            if key not in _OUTCOMES:
                raise _bad(
                    f"utility_out_of_care[{key!r}]",
                    "not an outcome; known: " + ", ".join(_OUTCOMES),
                )
            out[key] = _utility(f"utility_out_of_care[{key!r}]", value)
        if self.utility:
            for key in _OUTCOMES:
                if key not in out:
                    raise _bad(
                        "utility_out_of_care",
                        f"no value for outcome {key!r}; a model with utilities needs the "
                        "utility of time out of care after every outcome",
                    )
        keep("utility_out_of_care", out)
        for name in ("discount_costs", "discount_qalys"):
            rate = _number(name, getattr(self, name))
            if not 0.0 <= rate < 1.0:
                raise _bad(name, f"{rate} is not an annual rate; allowed 0 to below 1")
            keep(name, rate)

    @property
    def has_utilities(self) -> bool:
        """Whether the model counts QALYs (it gives utilities)."""
        return bool(self.utility)

    @classmethod
    def default(cls, pathway: Pathway | None = None) -> SimulationModel:
        """The documented default model on ``pathway`` (the standard pathway if ``None``).

        Levels of a custom pathway borrow the defaults of the standard level most like
        them (by setting, and for ambulatory care by hours a week).

        >>> model = SimulationModel.default()
        >>> model.reassess_days["detox"], model.continuation["inpatient"]
        (1, 0.75)
        """
        p = pathway if pathway is not None else standard_pathway()
        like = {lv.code: _STANDARD[_standard_code(lv, p)] for lv in p.levels}
        return cls(
            pathway=p,
            reassess_days={c: int(v["r"]) for c, v in like.items()},
            improvement={c: v["i"] for c, v in like.items()},
            relapse={c: v["rl"] for c, v in like.items()},
            drop_out={c: v["d"] for c, v in like.items()},
            transfer_out={c: v["t"] for c, v in like.items()},
            continuation={c: v["c"] for c, v in like.items()},
        )

    def with_levels(self, **changes: Mapping[str, Any]) -> SimulationModel:
        """A copy with some levels' values of per-level parameters changed.

        >>> m = SimulationModel.default().with_levels(continuation={"inpatient": 1.0},
        ...                                            step_down_to={"inpatient": "iop"})
        >>> m.continuation["inpatient"], m.continuation["detox"]
        (1.0, 0.85)
        """
        merged: dict[str, Any] = {}
        for name, values in changes.items():
            current = getattr(self, name, None)
            if not isinstance(current, Mapping):
                raise _bad(name, "not a per-level parameter of SimulationModel")
            if not isinstance(values, Mapping):
                raise WrongType(
                    parameter=name,
                    problem="expected a mapping of the levels to "
                    f"change, got {type(values).__name__}",
                )
            merged[name] = {**current, **values}
        return attrs.evolve(self, **merged)

    def with_distributions(self, **distributions: Any) -> UncertainModel:
        """This model with some parameters given as distributions, for
        ``simulate(..., samples=K)`` (probabilistic sensitivity analysis).

        Per-level, per-outcome and per-dimension parameters take a mapping of
        distributions (levels left out keep this model's value);
        ``relapse_after_discharge`` takes one.

        >>> from carepath.sim import Beta, Gamma
        >>> m = SimulationModel.default().with_distributions(
        ...     continuation={"inpatient": Beta(a=75, b=25)},
        ...     relapse_after_discharge=Gamma(shape=4, scale=0.0025))
        >>> m.draw(seed=1, sample=0).continuation["detox"]
        0.85
        """
        from ._psa import UncertainModel  # noqa: PLC0415  # the PSA module imports this one

        return UncertainModel(model=self, distributions=distributions)

    def parameters(self) -> dict[str, Any]:
        """Every parameter as plain JSON-ready data (the pathway by id, version and hash)."""
        out: dict[str, Any] = {
            "pathway": {
                "id": self.pathway.id,
                "version": self.pathway.version,
                "content_hash": self.pathway.content_hash,
            },
        }
        c = self.cohort
        if isinstance(c, SyntheticCohort):
            out["cohort"] = {
                "kind": "synthetic",
                "jitter": c.jitter,
                "classes": [
                    {"name": k.name, "weight": k.weight, "profile": k.profile.as_dict()}
                    for k in c.classes
                ],
            }
        else:
            out["cohort"] = {"kind": "assessed", "profiles": list(c.profiles)}
        for f in attrs.fields(SimulationModel):
            if f.name in {"pathway", "cohort"}:
                continue
            value = getattr(self, f.name)
            out[f.name] = dict(sorted(value.items())) if isinstance(value, Mapping) else value
        return out
