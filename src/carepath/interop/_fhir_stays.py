"""From the facts of foreign FHIR (``_fhir_foreign.Collector``) to episodes: stays placed at
levels, grouped into episodes, overlaps resolved, assessments attached, events recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo
from typing import Final, final

import attrs

from carepath._assessment import DIMENSIONS, Assessment, Dimension
from carepath._episode import Episode
from carepath._errors import CarepathError, InteropError
from carepath._guards import Event
from carepath._levels import Outcome
from carepath._pathway import Pathway
from carepath._textio import is_quotable, show

from ._codes import codes_for
from ._fhir_foreign import (
    _CURRENT,
    _DATE_ONLY,
    _IGNORED_STATUS,
    _NOT_A_STAY,
    _OUTCOME_EVENT,
    _PLANNED,
    Collector,
    FhirImport,
    _Encounter,
    _EpisodeOfCare,
    _Patient,
    _Ratings,
    _shown_system,
)
from ._stitching import Stay as StitchStay
from ._stitching import Stitching, stitch

__all__ = ["build"]

_FINISHED_EOC: Final = frozenset({"finished", "cancelled"})


@final
@attrs.frozen(kw_only=True)
class _Stay:
    level: str
    start: datetime
    end: datetime | None
    name: str
    event_id: str
    episode: str | None
    dispositions: tuple[str, ...] = ()
    disposition_codes: tuple[str, ...] = ()


class _Builder:
    def __init__(
        self, collector: Collector, pathway: Pathway, tz: tzinfo, stitching: Stitching
    ) -> None:
        self.c = collector
        self.pathway = pathway
        self.tz = tz
        self.stitching = stitching
        self.levels = {lv.code for lv in pathway.levels}
        self.session_levels = [
            lv.code for lv in pathway.levels if codes_for(lv).patient_class == "O"
        ]

    def time(self, text: str | None, name: str, field: str) -> datetime | None:
        if text is None:
            return None
        try:
            if _DATE_ONLY.match(text):
                day = datetime.fromisoformat(text).date()
                self.c.finding(
                    "date-only", name, f"{field} is a date without a time: taken as 00:00 {self.tz}"
                )
                return datetime.combine(day, time(0), self.tz)
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InteropError(
                standard="FHIR",
                resource=name,
                field=field,
                problem="expected a FHIR dateTime (a date, or a date and time with an offset)",
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value

    # -- stays ---------------------------------------------------------------------------------

    def stays(self, patient: _Patient) -> list[_Stay]:
        out: list[_Stay] = []
        has_eoc = bool(patient.episodes)
        for enc in sorted(patient.encounters, key=lambda e: e.order):
            if enc.status in _IGNORED_STATUS:
                self.c.finding("ignored", enc.name, f"status {enc.status}: not a stay")
                continue
            if enc.status in _PLANNED:
                self.c.finding("ignored", enc.name, "status planned: not a stay yet")
                continue
            out.extend(self._stays_of(enc, has_eoc))
        return out

    def _stays_of(self, enc: _Encounter, has_eoc: bool) -> list[_Stay]:
        level, _ = self.c.code_map.lookup(enc.codings)
        by_location = self._location_levels(enc)
        if level is None and not by_location:
            not_a_stay = [c for c in enc.classes if c.upper() in _NOT_A_STAY]
            if not_a_stay or (has_eoc and enc.episode is None):
                why = f"class {not_a_stay[0]}" if not_a_stay else "not linked to an episode"
                self.c.finding("ignored", enc.name, f"{why}, and no level in the code map")
                return []
            codes = tuple(
                f"{_shown_system(s)}|{c if is_quotable(c) else '?'}" for s, c in enc.codings
            )
            self.c.finding(
                "unmapped",
                enc.name,
                "no level for this stay's codes; add one of them (or its location) to the code map",
                codes,
            )
            return []
        start = self.time(enc.start, enc.name, "period.start")
        if start is None:
            self.c.finding("ignored", enc.name, "no period.start: not a stay")
            return []
        current = enc.status in _CURRENT and enc.end is None
        end = None if current else self.time(enc.end, enc.name, "period.end")
        if end is None and not current and enc.status not in _CURRENT:
            self.c.finding("no-end", enc.name, f"status {enc.status or '(none)'} without an end")
        pieces: list[tuple[str, datetime]] = []
        for lvl, seg_start in by_location:
            t = self.time(seg_start, enc.name, "location.period.start") if seg_start else start
            if t is None or t < start or (end is not None and t > end):
                t = start if t is None or t < start else t
            if not pieces or pieces[-1][0] != lvl:
                pieces.append((lvl, t))
        if not pieces:
            assert level is not None
            pieces = [(level, start)]
        pieces[0] = (pieces[0][0], start)
        out = []
        for i, (lvl, t) in enumerate(pieces):
            if lvl not in self.levels:
                self.c.finding(
                    "unknown-level",
                    enc.name,
                    f"the code map gives level {show(lvl)}, which pathway "
                    f"{self.pathway.id!r} does not have",
                )
                return []
            last = i == len(pieces) - 1
            out.append(
                _Stay(
                    level=lvl,
                    start=t,
                    end=end if last else pieces[i + 1][1],
                    name=enc.name,
                    event_id=enc.name if i == 0 else f"{enc.name}#{i + 1}",
                    episode=enc.episode,
                    dispositions=enc.dispositions if last else (),
                    disposition_codes=enc.disposition_codes if last else (),
                )
            )
        return out

    def _location_levels(self, enc: _Encounter) -> list[tuple[str, str | None]]:
        """(level, start) per location of the Encounter that maps to a level, by start."""
        found = []
        for seg in enc.locations:
            level = self.c.code_map.level_for_location(seg.keys)
            if level is None:
                for key in seg.keys:
                    codings = self.c.locations.get(self.c.urls.get(key, key))
                    if codings:
                        level = self.c.code_map.level_for(codings)
                        if level is not None:
                            break
            if level is not None:
                found.append((level, seg.start))
        found.sort(key=lambda p: p[1] or "")
        return found

    # -- episodes ------------------------------------------------------------------------------

    def group(self, patient: _Patient, stays: list[_Stay]) -> list[tuple[str | None, list[_Stay]]]:
        """Stays grouped into episodes: by EpisodeOfCare; a stay without one joins the
        episode whose time it falls in; the rest are stitched into courses of treatment
        by the shared :class:`~carepath.interop.Stitching` policy (every decision that
        starts a new episode is reported)."""
        groups: dict[str | None, list[_Stay]] = {}
        for s in stays:
            key = s.episode
            if key is not None and key.startswith("urn:"):
                key = self.c.urls.get(key, key).removeprefix("EpisodeOfCare/")
            groups.setdefault(key, []).append(s)
        loose = groups.pop(None, [])
        unplaced = []
        for s in loose:
            home = None
            for key, members in groups.items():
                first = min(m.start for m in members)
                ends = [m.end for m in members]
                last = None if any(e is None for e in ends) else max(e for e in ends if e)
                if first <= s.start and (last is None or s.start <= last):
                    home = key
                    break
            if home is None:
                unplaced.append(s)
            else:
                groups[home].append(s)
        out: list[tuple[str | None, list[_Stay]]] = [
            (k, sorted(v, key=lambda s: (s.start, s.name))) for k, v in groups.items()
        ]
        out += [(None, course) for course in self._stitch(unplaced)]
        out.sort(key=lambda kv: kv[1][0].start)
        return out

    def _stitch(self, stays: list[_Stay]) -> list[list[_Stay]]:
        if not stays:
            return []
        by_ref = {s.event_id: s for s in stays}
        courses = stitch(
            [
                StitchStay(
                    ref=s.event_id,
                    level=s.level,
                    start=s.start,
                    end_level=s.level,
                    end=s.end,
                    outcome=None if s.end is None else self._outcome(s, report=False),
                    start_refs=(s.name,),
                    end_refs=(s.name,) if s.end is not None else (),
                )
                for s in stays
            ],
            self.stitching,
            session_levels=self.session_levels,
        )
        out = []
        for course in courses:
            if course.linked_from is not None:
                self.c.finding("new-episode", course.stays[0].ref, course.linked_from.explain())
            out.append([by_ref[st.ref] for st in course.stays])
        return out

    def resolve_overlaps(self, stays: list[_Stay]) -> list[_Stay]:
        """The earlier of two overlapping stays ends when the later starts; a stay wholly
        inside another at the same level is merged into it."""
        out: list[_Stay] = []
        for s in stays:
            if out:
                prev = out[-1]
                if prev.end is None or prev.end > s.start:
                    inside = s.end is not None and (prev.end is None or s.end <= prev.end)
                    if inside and s.level == prev.level:
                        self.c.finding(
                            "overlap", s.name, f"lies inside {prev.name} at the same level: merged"
                        )
                        continue
                    self.c.finding(
                        "overlap", s.name, f"starts before {prev.name} ends: that stay ends here"
                    )
                    out[-1] = attrs.evolve(prev, end=s.start, dispositions=(), disposition_codes=())
            out.append(s)
        return out

    def episode(
        self,
        patient_id: str,
        key: str | None,
        stays: Sequence[_Stay],
        eoc: _EpisodeOfCare | None,
        ratings: list[tuple[datetime, Assessment, str]],
        previous: Episode | None = None,
    ) -> Episode:
        """The episode of one group of stays: admit, moves by intensity, reassessments,
        and the outcome once the episode has ended."""
        first, last = stays[0], stays[-1]
        ep = self.pathway.start(
            patient_id,
            at=first.start,
            episode_id=key if key is not None else first.event_id,
            previous=previous if previous is not None and not previous.is_open else None,
        )
        starts = {s.start: i for i, s in enumerate(stays)}
        attached: dict[int, Assessment] = {}
        actions: list[tuple[datetime, int, int]] = [(s.start, 0, i) for i, s in enumerate(stays)]
        for j, (at, a, _) in enumerate(ratings):
            if at <= first.start:
                attached[0] = a  # an intake assessment goes with the admission
            elif at in starts:
                attached[starts[at]] = a
            else:
                actions.append((at, 1, j))
        closed = eoc.status in _FINISHED_EOC if eoc is not None else last.end is not None
        if closed and last.end is not None:
            actions.append((last.end, 2, 0))
        actions.sort()
        current: str | None = None
        for at, kind, i in actions:
            level: str | None = None
            assessment: Assessment | None = None
            if kind == 0:
                s = stays[i]
                if s.level == current:
                    continue
                level, event_id, assessment = s.level, s.event_id, attached.get(i)
                if current is None:
                    event = Event.ADMIT
                else:
                    up = self.pathway.level(level).intensity > self.pathway.level(current).intensity
                    event = Event.STEP_UP if up else Event.STEP_DOWN
                current = level
            elif kind == 1:
                _, assessment, event_id = ratings[i]
                if current is None or not ep.is_open:
                    self.c.finding("ignored", event_id, "an assessment outside the stays")
                    continue
                event = Event.REASSESS
            else:
                event = _OUTCOME_EVENT[self._outcome(last)]
                event_id = f"{last.event_id}:end"
            self._record(ep, event, level, at, assessment, event_id)
        return ep

    def _outcome(self, last: _Stay, *, report: bool = True) -> Outcome:
        outcome = self.c.code_map.outcome_for(last.dispositions)
        if outcome is not None:
            return outcome
        missing = self.c.code_map.missing_disposition
        if last.dispositions and report:
            self.c.finding(
                "unknown-disposition",
                last.name,
                f"discharge disposition not in the code map: taken as {missing.value}",
                last.disposition_codes,
            )
        return missing

    def _record(
        self,
        ep: Episode,
        event: Event,
        level: str | None,
        at: datetime,
        assessment: Assessment | None,
        event_id: str,
    ) -> None:
        try:
            ep.record(event, level, at=at, assessment=assessment, event_id=event_id)
        except CarepathError as exc:
            raise InteropError(
                standard="FHIR",
                resource=event_id.split("#", maxsplit=1)[0].removesuffix(":end"),
                problem=f"cannot be recorded as {event.value}: "
                + str(getattr(exc, "problem", type(exc).__name__)),
                reasons=getattr(exc, "reasons", ()),
            ) from None


def _assessments(b: _Builder, ratings: list[_Ratings]) -> list[tuple[datetime, Assessment, str]]:
    """Ratings grouped by time into whole assessments (all six dimensions)."""
    by_time: dict[datetime, tuple[dict[Dimension, int], list[str]]] = {}
    for r in sorted(ratings, key=lambda r: r.order):
        at = b.time(r.at, r.name, "effective") if r.at else None
        if at is None:
            b.c.finding("incomplete-assessment", r.name, "no time: ignored")
            continue
        dims, names = by_time.setdefault(at, ({}, []))
        dims.update(r.ratings)
        names.append(r.name)
    out = []
    for at, (dims, names) in sorted(by_time.items()):
        missing = [d.value for d in DIMENSIONS if d not in dims]
        if missing:
            b.c.finding(
                "incomplete-assessment",
                names[0],
                "no rating for " + ", ".join(missing) + ": ignored",
            )
            continue
        out.append((at, Assessment(**{d.value: dims[d] for d in DIMENSIONS}), names[0]))
    return out


def build(
    collector: Collector, pathway: Pathway, tz: tzinfo, stitching: Stitching | None = None
) -> FhirImport:
    """Every patient's episodes from what the collector read."""
    b = _Builder(collector, pathway, tz, stitching if stitching is not None else Stitching())
    result: dict[str, tuple[Episode, ...]] = {}
    n_stays = 0
    for pid_raw in list(collector.patients):
        patient = collector.patients.pop(pid_raw)  # facts go as their episodes come
        pid = collector.urls.get(pid_raw, pid_raw).removeprefix("Patient/")
        pid = collector.patient_ids.get(pid, pid)
        stays = b.stays(patient)
        groups = b.group(patient, stays)
        ratings = _assessments(b, patient.ratings)
        episodes: list[Episode] = []
        for gi, (key, members) in enumerate(groups):
            resolved = b.resolve_overlaps(members)
            n_stays += len(resolved)
            ends = [s.end for s in resolved]
            until = None if any(e is None for e in ends) else max(e for e in ends if e)
            nxt = groups[gi + 1][1][0].start if gi + 1 < len(groups) else None
            mine = [
                r
                for r in ratings
                if (until is None or r[0] <= until) and (nxt is None or r[0] < nxt)
            ]
            ratings = [r for r in ratings if r not in mine]
            eoc = patient.episodes.get(key) if key is not None else None
            before = episodes[-1] if episodes else None
            episodes.append(b.episode(pid, key, resolved, eoc, mine, before))
        for at, _, name in ratings:
            collector.finding(
                "ignored", name, f"an assessment at {at.date()} outside every episode"
            )
        if not episodes and patient.encounters:
            unmapped = [f for f in collector.findings if f.kind in ("unmapped", "unknown-level")]
            if unmapped:
                codes = sorted({c for f in unmapped for c in f.codes})
                raise InteropError(
                    standard="FHIR",
                    resource=unmapped[0].resource,
                    field="serviceType, type, class, location",
                    problem="patient has stays but none maps to a level of the pathway; add "
                    "codes to the code map: " + ", ".join(codes[:12]),
                )
        if episodes:
            result[pid] = tuple(episodes)
    counts = dict(collector.counts)
    counts["stays"] = n_stays
    return FhirImport(episodes=result, findings=tuple(collector.findings), counts=counts)
