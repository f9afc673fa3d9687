"""Diagrams, notebook HTML, plots and the explore commands."""

from __future__ import annotations

import re
import shutil
import statistics
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
from click.testing import CliRunner

from carepath import (
    Assessment,
    Episode,
    Override,
    Pathway,
    definitions,
    explore,
    load_catalog,
    place,
    standard_pathway,
)
from carepath.cli import main

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
SECRET_NOTE = "moved in with cousin Alice"
SECRET_REASON = "bed shortage, discussed with family"
NO_DOT = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="graphviz's 'dot' program is not installed (Debian package 'graphviz')",
)


def sample_episode() -> Episode:
    """detox -> inpatient -> IOP, a relapse stepping up to PHP, IOP again, then drop-out."""
    p = standard_pathway()
    ep = p.start("patient-7", at=T0, episode_id="episode-7")
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=3))
    ep.step_down(
        "inpatient", at=T0 + timedelta(days=4), assessment=Assessment(withdrawal=2, relapse=3)
    )
    ep.step_down(
        "iop",
        at=T0 + timedelta(days=8),
        assessment=Assessment(relapse=2),
        override=Override(reason=SECRET_REASON, by="dr-0042"),
    )
    ep.relapse(at=T0 + timedelta(days=30), assessment=Assessment(emotional=3, relapse=2))
    ep.step_down("iop", at=T0 + timedelta(days=45), assessment=Assessment(relapse=2))
    ep.drop_out(at=T0 + timedelta(days=60), reason=SECRET_NOTE)
    return ep


class StrictParser(HTMLParser):
    """Fails on unbalanced or mismatched tags."""

    VOID = frozenset(
        {
            "br",
            "hr",
            "img",
            "meta",
            "link",
            "input",
            "col",
            "path",
            "polygon",
            "ellipse",
            "polyline",
            "text",
            "title",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        if tag not in {"br", "hr", "img", "meta", "link", "input", "col"}:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> without an opening tag"
        opened = self.stack.pop()
        assert opened == tag, f"<{opened}> closed by </{tag}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> str:
    parser = StrictParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return "".join(parser.text)


# -- mermaid and graphviz ------------------------------------------------------------------------


_MM_EDGE = re.compile(r'^\s+(\w+) (?:-->|==>|-\.->)(?:\|"([^"]*)"\|)? (\w+)$', re.MULTILINE)


def _mermaid_edges(text: str) -> dict[tuple[str, str], str]:
    return {(m[1], m[3]): m[2] or "" for m in _MM_EDGE.finditer(text)}


@pytest.mark.parametrize("guards", [False, True])
def test_the_full_mermaid_view_contains_every_level_and_rule(guards: bool) -> None:
    p = standard_pathway()
    text = explore.to_mermaid(p, guards=guards, detail="full")
    assert text.startswith("flowchart TD\n")
    for lv in p.levels:
        assert re.search(rf'n_{lv.code}\W+"{re.escape(lv.name)}<br/>', text), lv.code
    edges = _mermaid_edges(text)
    for r in p.rules:
        label = edges[(f"n_{r.source}", f"n_{r.target}")]
        assert r.event.value in label
        if guards:
            for g in r.guards:
                assert g.kind in label
    assert sum(len(v.split("<br/>")) for v in edges.values()) == len(p.rules)


def test_the_summary_merges_parallel_rules_and_groups_admissions_and_exits() -> None:
    """One edge per direction between adjacent levels, one per exit, one admission edge."""
    p = standard_pathway()
    text = explore.to_mermaid(p)
    edges = _mermaid_edges(text)
    full = _mermaid_edges(explore.to_mermaid(p, detail="full"))
    assert len(edges) < len(full) // 3
    assert edges[("n_intake", "levels")] == "admit (to any level)"
    for outcome, words in [("completed", "complete"), ("dropped_out", "drop out")]:
        assert edges[("levels", f"n_{outcome}")] == f"{words} (from any level)"
        assert not any(
            t == f"n_{outcome}" and s.startswith("n_") and s != "n_intake" for s, t in edges
        )
    assert edges[("n_detox", "n_inpatient")] == "step down"
    assert edges[("n_inpatient", "n_detox")] == "step up, relapse"
    assert ("n_detox", "n_iop") not in edges  # a skip the ladder already allows
    assert "may skip levels" in text
    assert "==>" in text
    assert "-.->" in text


def test_the_summary_keeps_a_skip_the_ladder_does_not_allow() -> None:
    """A skip drawn only when the steps between its levels do not allow the same moves."""
    base = standard_pathway()
    rules = [r for r in base.rules if (r.source, r.target) != ("php", "iop")]
    p = Pathway(
        id="no-php-to-iop",
        name="x",
        version="1",
        levels=base.levels,
        criteria=base.criteria,
        rules=rules,
    )
    edges = _mermaid_edges(explore.to_mermaid(p))
    assert ("n_php", "n_iop") not in edges
    assert edges[("n_php", "n_sober_living")] == "step down"
    assert edges[("n_inpatient", "n_iop")] == "step down"


def test_every_level_has_its_own_colour_and_its_setting_as_its_shape() -> None:
    p = standard_pathway()
    text = explore.to_mermaid(p)
    fills = dict(re.findall(r"style n_(\w+) fill:(#[0-9A-Fa-f]{6})", text))
    level_fills = [fills[lv.code] for lv in p.levels]
    assert len(set(level_fills)) == len(p.levels) == 6
    assert set(level_fills) <= set(explore.OKABE_ITO)
    assert 'n_detox[["' in text
    assert 'n_inpatient[["' in text
    assert 'n_php["' in text  # day programme: box
    assert 'n_iop("' in text
    assert 'n_outpatient("' in text
    assert 'n_sober_living{{"' in text  # recovery residence: hexagon


def test_mermaid_highlights_an_episode_and_draws_its_skips() -> None:
    p = standard_pathway()
    ep = sample_episode()
    text = explore.to_mermaid(p, episode=ep)
    assert "class n_dropped_out current" in text
    visited = re.search(r"class (\S+) visited", text)
    assert visited is not None
    assert set(visited[1].split(",")) == {"n_intake", "n_detox", "n_inpatient", "n_iop", "n_php"}
    links = re.search(r"linkStyle (\S+) stroke", text)
    assert links is not None
    edge_list = list(_mermaid_edges(text))
    taken = {edge_list[int(i)] for i in links[1].split(",")}
    moves = {(f"n_{r.source}", f"n_{r.target}") for r in ep.history if r.source != r.target}
    # the skip inpatient -> iop is drawn for the episode although the ladder implies it
    assert ("n_inpatient", "n_iop") in taken
    assert moves <= taken


def test_mermaid_event_filter_and_escaping() -> None:
    text = explore.to_mermaid(standard_pathway(), events={"step_down", "complete"}, direction="LR")
    assert "admit" not in text
    assert "n_intake" not in text
    assert "step down" in text
    with pytest.raises(explore.ExploreError):
        explore.to_mermaid(standard_pathway(), direction="up")
    with pytest.raises(explore.ExploreError, match="detail"):
        explore.to_mermaid(standard_pathway(), detail="some")  # type: ignore[arg-type]  # under test


@pytest.mark.parametrize("detail", ["summary", "full"])
def test_graphviz_source_has_every_state_and_highlights_the_route(
    detail: Literal["summary", "full"],
) -> None:
    p = standard_pathway()
    dot = explore.to_graphviz(p, episode=sample_episode(), guards=True, detail=detail)
    src = dot.source
    for state in p.states:
        assert re.search(rf"^\s+{state} \[", src, re.MULTILINE), state
    assert re.search("minimum.stay", src)
    assert re.search(r'dropped_out \[label="Dropped out" color="#000000"[^]]*penwidth=4', src)


def test_the_summary_graphviz_draws_fewer_edges_than_the_rules() -> None:
    p = standard_pathway()
    summary = explore.to_graphviz(p).source.count(" -> ")
    full = explore.to_graphviz(p, detail="full").source.count(" -> ")
    assert summary == 16  # 5 down + 5 up + 1 admission + 3 exits + 2 exits from intake
    assert full == len({(r.source, r.target) for r in p.rules})
    assert "lhead=cluster_levels" in explore.to_graphviz(p).source


@NO_DOT
def test_graphviz_renders_svg() -> None:  # pragma: no cover - needs the dot program
    svg = explore.to_graphviz(standard_pathway()).pipe(format="svg").decode()
    assert "<svg" in svg
    assert "Outpatient" in svg


# -- HTML ----------------------------------------------------------------------------------------


def test_pathway_html_is_valid_and_lists_every_level() -> None:
    p = standard_pathway()
    html = p._repr_html_()
    text = parse(html)
    for lv in p.levels:
        assert lv.name in text
    assert "mermaid" not in html  # no raw diagram text: a drawn diagram or a table of moves
    assert ("<svg" in html) != ("carepath-moves" in html)


def test_pathway_html_without_dot_lists_the_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    html = standard_pathway()._repr_html_()
    text = parse(html)
    assert "<svg" not in html
    assert "apt-get install graphviz" in text
    assert "Inpatient / residential -> Partial hospitalization (PHP)" in text


def test_episode_html_is_valid_and_carries_no_patient_data_beyond_ids() -> None:
    ep = sample_episode()
    html = ep._repr_html_()
    text = parse(html)
    assert "patient-7" in text
    assert "episode-7" in text
    assert "dr-0042" in text
    for secret in (SECRET_NOTE, SECRET_REASON, "Alice", "2026", "03-02", "T08"):
        assert secret not in html
    assert "(set aside: minimum_stay)" in text
    assert text.count("step_down") >= 3
    rows = re.findall(r"<tr>", html)
    assert len(rows) == 2 + len(explore.episode_stays(ep)) + len(ep.history)


def test_placement_html_highlights_the_deciding_dimensions() -> None:
    placement = place(Assessment(emotional=3, relapse=2, environment=3))
    html = placement._repr_html_()
    parse(html)
    deciding = re.findall(r'<tr class="deciding"><td>([^<]+)</td>', html)
    assert deciding == [d.label for d in placement.deciding]
    assert len(deciding) >= 1


@attrs.frozen
class Frames:
    """A hand-built stand-in for a simulation result."""

    events: Any
    stays: Any


def cohort() -> Frames:
    pd = pytest.importorskip("pandas")
    events = pd.DataFrame(
        [
            ("p1", 1, 0.0, "admit", "intake", "inpatient"),
            ("p1", 1, 10.0, "step_down", "inpatient", "iop"),
            ("p1", 1, 60.0, "complete", "iop", "completed"),
            ("p2", 1, 0.0, "admit", "intake", "inpatient"),
            ("p2", 1, 8.0, "step_down", "inpatient", "iop"),
            ("p2", 1, 20.0, "drop_out", "iop", "dropped_out"),
            ("p3", 1, 0.0, "admit", "intake", "detox"),
            ("p3", 1, 4.0, "step_down", "detox", "inpatient"),
        ],
        columns=["patient", "episode", "day", "event", "from_level", "to_level"],
    )
    stays = pd.DataFrame(
        [
            ("p1", 1, "inpatient", 0.0, 10.0, "step_down"),
            ("p1", 1, "iop", 10.0, 60.0, "complete"),
            ("p2", 1, "inpatient", 0.0, 8.0, "step_down"),
            ("p2", 1, "iop", 8.0, 20.0, "drop_out"),
            ("p3", 1, "detox", 0.0, 4.0, "step_down"),
            ("p3", 1, "inpatient", 4.0, float("nan"), None),
        ],
        columns=["patient", "episode", "level", "start_day", "end_day", "exit"],
    )
    return Frames(events=events, stays=stays)


class Tables(HTMLParser):
    """Each table of an HTML document as rows of cell texts, keyed by the paragraph before it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.caption = ""
        self.paragraph: list[str] | None = None
        self.rows: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs_: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self.paragraph = []
        elif tag == "table":
            self.rows = []
        elif tag == "tr" and self.rows is not None:
            self.rows.append([])
        elif tag in {"td", "th"}:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.paragraph is not None:
            self.caption = "".join(self.paragraph)
            self.paragraph = None
        elif tag == "table" and self.rows is not None:
            self.tables[self.caption] = self.rows
            self.rows = None
        elif tag in {"td", "th"} and self.cell is not None and self.rows is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        for part in (self.paragraph, self.cell):
            if part is not None:
                part.append(data)


def tables(html: str) -> dict[str, dict[str, dict[str, str]]]:
    """``{caption: {row label: {column: cell}}}`` for every table in ``html``."""
    parser = Tables()
    parser.feed(html)
    parser.close()
    out = {}
    for caption, (head, *rows) in parser.tables.items():
        key = caption.split(" (")[0]
        out[key] = {row[0]: dict(zip(head[1:], row[1:], strict=True)) for row in rows}
    return out


HORIZON = 30


def tiny_result() -> Any:
    """Three patients, a 30-day horizon; two inpatient stays are still open at the horizon.

    p0: inpatient days 0-10, IOP 10-20, completed. p1: inpatient from day 0, censored.
    p2: detox days 0-4, inpatient from day 4, censored.
    """
    pd = pytest.importorskip("pandas")
    sim = pytest.importorskip("carepath.sim")
    model = sim.SimulationModel.default()
    like = sim.simulate(model, n=1, seed=0, days=5)  # the real tables' dtypes
    events = pd.DataFrame(
        [
            (0, 0, 0, "admit", "intake", "inpatient", -1),
            (0, 0, 10, "step_down", "inpatient", "iop", -1),
            (0, 0, 20, "complete", "iop", "completed", -1),
            (1, 0, 0, "admit", "intake", "inpatient", -1),
            (2, 0, 0, "admit", "intake", "detox", -1),
            (2, 0, 4, "step_down", "detox", "inpatient", -1),
        ],
        columns=list(like.events.columns),
    ).astype(like.events.dtypes.to_dict())
    stays = pd.DataFrame(
        [
            (0, 0, "inpatient", 0, 10, "step_down"),
            (0, 0, "iop", 10, 20, "complete"),
            (1, 0, "inpatient", 0, HORIZON, "censored"),
            (2, 0, "detox", 0, 4, "step_down"),
            (2, 0, "inpatient", 4, HORIZON, "censored"),
        ],
        columns=list(like.stays.columns),
    ).astype(like.stays.dtypes.to_dict())
    metadata = {**like.metadata, "n": 3, "days": HORIZON}
    return sim.SimulationResult(events=events, stays=stays, metadata=metadata, model=model)


def test_result_html_counts_censored_stays_as_open_not_as_ended() -> None:
    """A stay with exit "censored" ends at the horizon but is open: not in the day counts."""
    html = tiny_result()._repr_html_()
    text = parse(html)
    t = tables(html)
    los = t["Length of stay, in days, of the stays that ended before the horizon"]
    inpatient = los["inpatient"]
    assert inpatient["stays ended"] == "1"  # only p0's 10-day stay ended
    assert inpatient["median days"] == "10"
    assert inpatient["stays open at the horizon"] == "2"
    assert los["detox"]["stays open at the horizon"] == "0"
    assert los["iop"] == {
        "stays ended": "1",
        "median days": "10",
        "25% ended by day": "10",
        "75% ended by day": "10",
        "stays open at the horizon": "0",
    }
    outcomes = t["Episodes by outcome"]
    assert outcomes["completed"] == {"episodes": "1", "share": "33.3%"}
    assert outcomes["dropped_out"]["episodes"] == "0"
    assert outcomes["in care at the horizon"] == {"episodes": "2", "share": "66.7%"}
    assert t["How stays ended, per level"]["inpatient"]["stays ended"] == "1"
    # Days of care count open stays up to the horizon: 10 + 30 + 26.
    assert t["Days of care and cost, per level"]["inpatient"]["days of care"] == "66"
    assert "3 patients over 30 days: 3 episodes, 5 stays (2 still open at the horizon), " in text


def test_result_html_renders_every_summary_frame_as_a_table() -> None:
    sim = pytest.importorskip("carepath.sim")
    result = sim.simulate(sim.SimulationModel.default(), n=300, seed=11, days=200)
    html = result._repr_html_()
    parse(html)
    assert "<pre" not in html
    t = tables(html)
    summary = result.summary()
    for name in ("length_of_stay", "outcomes", "continuation", "readmissions", "care"):
        frame = summary.readable(name)
        caption = frame.attrs["title"].split(" (")[0]
        raw = getattr(summary, name)
        assert list(t[caption]) == [str(i) for i in raw.index], caption
        for label, value_row in zip(t[caption], frame.itertuples(index=False), strict=True):
            for column, value in zip(frame.columns, value_row, strict=True):
                assert t[caption][label][str(column)] == value, (caption, label, column)
    shares = t["How stays ended, per level"]
    for level, row in summary.outcomes.iterrows():
        assert shares[str(level)]["dropped out"] == f"{100 * row['dropped_out']:.1f}%"
    medians = t["Length of stay, in days, of the stays that ended before the horizon"]
    assert all(not r["median days"].endswith(".000") for r in medians.values())
    assert f"Relapses per patient: {summary.relapses_per_patient:.2f}" in parse(html)
    outcomes = t["Episodes by outcome"]
    admits = int((result.events["event"] == "admit").sum())
    assert sum(int(r["episodes"]) for r in outcomes.values()) == admits
    censored = result.stays[result.stays["exit"] == "censored"]
    assert outcomes["in care at the horizon"]["episodes"] == str(len(censored))


def test_result_html_builds_no_row_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view never turns the tables' rows into dictionaries (slow on big runs)."""
    pd = pytest.importorskip("pandas")
    result = tiny_result()
    real = pd.DataFrame.to_dict

    def to_dict(self: Any, orient: str = "dict", *args: Any, **kwargs: Any) -> Any:
        assert orient != "records", "result_html turned rows into records"
        return real(self, orient, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_dict", to_dict)
    assert "Length of stay" in parse(explore.result_html(result))


def test_result_html_of_a_streamed_run_leaves_its_parts_on_disk(tmp_path: Path) -> None:
    """A run streamed to Parquet shows its summary without loading its tables."""
    sim = pytest.importorskip("carepath.sim")
    result = sim.simulate(
        sim.SimulationModel.default(), n=400, seed=5, days=120, out=tmp_path / "run", chunk_size=100
    )
    html = result._repr_html_()
    assert "parts=" in repr(result)  # the repr shows parts while the tables are not loaded
    t = tables(html)
    los = t["Length of stay, in days, of the stays that ended before the horizon"]
    assert int(los["inpatient"]["stays ended"].replace(",", "")) == int(
        result.summary().length_of_stay.loc["inpatient", "stays"]
    )
    stays = result.stays
    assert f"{len(stays)} stays" in parse(html)
    assert sum(int(r["stays open at the horizon"]) for r in los.values()) == int(
        (stays["exit"] == "censored").sum()
    )


# -- plots ---------------------------------------------------------------------------------------


def test_sankey_counts_the_flows() -> None:
    fig = explore.sankey(cohort())
    trace = fig.data[0]
    labels = list(trace.node.customdata)
    flows = {
        (labels[s], labels[t]): v
        for s, t, v in zip(trace.link.source, trace.link.target, trace.link.value, strict=True)
    }
    assert flows[("Intake", "Inpatient / residential")] == 2
    assert flows[("Inpatient / residential", "Intensive outpatient (IOP)")] == 2
    assert flows[("Intensive outpatient (IOP)", "Completed")] == 1
    assert sum(flows.values()) == 8
    assert len(labels) == len(set(labels))  # no state twice
    assert labels[0] == "Intake"
    # most intensive level first, outcomes last
    assert labels.index("Withdrawal management (detox)") < labels.index("Inpatient / residential")
    assert labels[-2:] == ["Completed", "Dropped out"]


def test_sankey_leaves_step_ups_out_and_counts_them() -> None:
    pd = pytest.importorskip("pandas")
    base = cohort()
    up = pd.DataFrame(
        [("p4", 1, 0.0, "admit", "intake", "iop"), ("p4", 1, 9.0, "step_up", "iop", "php")],
        columns=list(base.events.columns),
    )
    frames = Frames(events=pd.concat([base.events, up]), stays=base.stays)
    fig = explore.sankey(frames)
    assert "Not drawn: 1 move to a more intensive level" in fig.layout.title.text
    trace = fig.data[0]
    assert sum(trace.link.value) == 9
    stepwise = explore.sankey(frames, by_step=True).data[0]
    assert sum(stepwise.link.value) == 10
    assert list(stepwise.node.customdata).count("Intensive outpatient (IOP)") == 2


def test_occupancy_counts_patients_per_day() -> None:
    fig = explore.occupancy(cohort(), days=30)
    by_name = {t.name: list(t.y) for t in fig.data}
    inpatient = by_name["Inpatient / residential"]
    assert inpatient[0] == 2
    assert inpatient[5] == 3
    assert inpatient[9] == 2
    assert inpatient[29] == 1
    assert by_name["Intensive outpatient (IOP)"][15] == 2
    assert len(inpatient) == 30  # days 0 to 29


def test_length_of_stay_leaves_out_open_stays() -> None:
    fig = explore.length_of_stay(cohort())
    by_name = {t.name: sorted(t.y) for t in fig.data}
    assert by_name["Inpatient / residential"] == [8.0, 10.0]
    assert by_name["Intensive outpatient (IOP)"] == [12.0, 50.0]


def test_length_of_stay_matches_the_summary_leaving_out_censored_stays() -> None:
    """The boxes hold exactly the stays ``summary().length_of_stay`` counts (ended ones)."""
    sim = pytest.importorskip("carepath.sim")
    result = sim.simulate(sim.SimulationModel.default(), n=300, seed=5, days=60)
    fig = explore.length_of_stay(result)
    code_of = {lv.name: lv.code for lv in standard_pathway().levels}
    los = result.summary().length_of_stay
    assert {code_of[t.name] for t in fig.data} == {
        str(c) for c in los.index if los.loc[c, "stays"] > 0
    }
    for t in fig.data:
        row = los.loc[code_of[t.name]]
        assert len(t.y) == row["stays"]
        assert statistics.median(t.y) == row["median"]


def test_length_of_stay_leaves_out_stays_censored_at_the_horizon() -> None:
    by_name = {t.name: list(t.y) for t in explore.length_of_stay(tiny_result()).data}
    assert by_name == {
        "Inpatient / residential": [10.0],
        "Intensive outpatient (IOP)": [10.0],
        "Withdrawal management (detox)": [4.0],
    }


def test_occupancy_counts_open_stays_through_the_last_day_of_the_horizon() -> None:
    """Days 0 to horizon - 1 are shown; stays censored at the horizon count on every one."""
    fig = explore.occupancy(tiny_result())
    inpatient = {t.name: list(t.y) for t in fig.data}["Inpatient / residential"]
    assert len(inpatient) == HORIZON
    assert inpatient[-1] == 2
    assert list(fig.data[0].x) == list(range(HORIZON))


def sampled() -> Frames:
    """Two parameter samples of one patient, as ``simulate(..., samples=2)`` lays them out."""
    pd = pytest.importorskip("pandas")
    events = pd.DataFrame(
        [
            (0, "p1", 0, 0.0, "admit", "intake", "inpatient"),
            (0, "p1", 0, 10.0, "step_down", "inpatient", "iop"),
            (1, "p1", 0, 0.0, "admit", "intake", "inpatient"),
            (1, "p1", 0, 4.0, "step_down", "inpatient", "iop"),
        ],
        columns=["sample", "patient", "episode", "day", "event", "from_level", "to_level"],
    )
    stays = pd.DataFrame(
        [
            (0, "p1", 0, "inpatient", 0, 10, "step_down"),
            (0, "p1", 0, "iop", 10, 20, "censored"),
            (1, "p1", 0, "inpatient", 0, 4, "step_down"),
            (1, "p1", 0, "iop", 4, 20, "censored"),
        ],
        columns=["sample", "patient", "episode", "level", "start_day", "end_day", "exit"],
    )
    return Frames(events=events, stays=stays)


def test_sankey_keeps_parameter_samples_apart() -> None:
    trace = explore.sankey(sampled()).data[0]
    labels = list(trace.node.customdata)
    flows = {
        (labels[s], labels[t]): v
        for s, t, v in zip(trace.link.source, trace.link.target, trace.link.value, strict=True)
    }
    assert flows == {
        ("Intake", "Inpatient / residential"): 2,
        ("Inpatient / residential", "Intensive outpatient (IOP)"): 2,
    }
    assert labels.count("Intake") == 1


def test_occupancy_of_parameter_samples_is_their_mean() -> None:
    fig = explore.occupancy(sampled())
    by_name = {t.name: list(t.y) for t in fig.data}
    assert by_name["Inpatient / residential"][0] == 1
    assert by_name["Inpatient / residential"][5] == 0.5
    assert by_name["Intensive outpatient (IOP)"][5] == 0.5
    assert by_name["Intensive outpatient (IOP)"][19] == 1
    assert "mean of 2" in fig.layout.yaxis.title.text


def test_occupancy_of_a_psa_run_divides_by_its_samples() -> None:
    sim = pytest.importorskip("carepath.sim")
    uncertain = sim.SimulationModel.default().with_distributions(
        continuation={"inpatient": sim.Beta(a=75, b=25)}
    )
    result = sim.simulate(uncertain, n=40, seed=3, days=30, samples=3)
    fig = explore.occupancy(result)
    day0 = sum(t.y[0] for t in fig.data)
    starts = int((result.stays["start_day"] == 0).sum())
    assert day0 == pytest.approx(starts / 3)
    assert len(fig.data[0].y) == 30


@attrs.frozen
class FramesWithPathway:
    events: Any
    stays: Any
    pathway: Pathway


@pytest.mark.parametrize("which", ["sankey", "occupancy", "length_of_stay"])
def test_cohort_plots_default_to_the_results_pathway(which: str) -> None:
    base = cohort()
    frames = FramesWithPathway(events=base.events, stays=base.stays, pathway=load_catalog("asam3"))
    fig = getattr(explore, which)(frames)
    names = list(fig.data[0].node.customdata) if which == "sankey" else [t.name for t in fig.data]
    assert "Intensive outpatient (2.1)" in names
    assert "Intensive outpatient (IOP)" not in names


@pytest.mark.parametrize(
    ("which", "kwargs", "field"),
    [
        ("occupancy", {"days": 0}, "days"),
        ("occupancy", {"days": True}, "days"),
        ("occupancy", {"days": 2.5}, "days"),
        ("sankey", {"max_steps": 0}, "max_steps"),
        ("sankey", {"max_steps": "3"}, "max_steps"),
        ("sankey", {"pathway": "standard"}, "pathway"),
        ("occupancy", {"pathway": "standard"}, "pathway"),
        ("length_of_stay", {"pathway": "standard"}, "pathway"),
    ],
)
def test_cohort_plots_reject_bad_arguments(which: str, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(explore.ExploreError, match=f"^{field}:") as info:
        getattr(explore, which)(cohort(), **kwargs)
    assert info.value.field == field


def test_result_html_of_a_psa_run_counts_patients_per_sample() -> None:
    sim = pytest.importorskip("carepath.sim")
    uncertain = sim.SimulationModel.default().with_distributions(
        continuation={"inpatient": sim.Beta(a=75, b=25)}
    )
    result = sim.simulate(uncertain, n=40, seed=3, days=30, samples=3)
    assert "40 patients \u00d7 3 parameter samples over 30 days" in parse(result._repr_html_())


def test_plots_name_missing_columns() -> None:
    pd = pytest.importorskip("pandas")
    bad = Frames(events=pd.DataFrame({"patient": []}), stays=pd.DataFrame({"level": []}))
    with pytest.raises(explore.ExploreError, match="missing columns"):
        explore.sankey(bad)


def _pixels(path: Path) -> Any:
    from matplotlib.image import imread  # noqa: PLC0415  # extra 'viz'

    return imread(path)


@pytest.mark.parametrize("which", ["timeline", "length_of_stay", "occupancy"])
def test_a_plot_renders_to_png_with_content(which: str, tmp_path: Path) -> None:
    fig = (
        explore.timeline(sample_episode())
        if which == "timeline"
        else getattr(explore, which)(cohort())
    )
    out = tmp_path / f"{which}.png"
    explore.to_png(fig, out, width=800, height=400)
    pixels = _pixels(out)
    assert pixels.shape[:2] == (400, 800)
    rgb = pixels[..., :3]
    not_white = (rgb < 0.97).any(axis=-1).mean()
    assert 0.02 < not_white < 0.9
    colours = {tuple((px * 20).round()) for px in rgb.reshape(-1, 3)[::7]}
    assert len(colours) > 5  # bars in several setting colours, not one flat fill


def test_svg_export_and_sankey_refusal(tmp_path: Path) -> None:
    out = tmp_path / "t.svg"
    explore.to_svg(explore.timeline(sample_episode()), out)
    assert out.read_text().lstrip().startswith("<?xml")
    with pytest.raises(explore.ExploreError, match="sankey"):
        explore.to_png(explore.sankey(cohort()), tmp_path / "s.png")


def test_timeline_bars_follow_the_stays() -> None:
    ep = sample_episode()
    fig = explore.timeline(ep)
    bars = {t.name: (list(t.base), list(t.x)) for t in fig.data if t.type == "bar"}
    assert bars["Intensive outpatient (IOP)"] == ([8.0, 45.0], [22.0, 15.0])
    assert bars["Withdrawal management (detox)"] == ([0.0], [4.0])
    assert "2026" not in fig.to_json()


# -- command line --------------------------------------------------------------------------------


def test_cli_paths_lists_step_down_sequences() -> None:
    result = CliRunner().invoke(
        main,
        [
            "paths",
            "--from",
            "inpatient",
            "--to",
            "completed",
            "--event",
            "step_down",
            "--event",
            "complete",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stdout.splitlines() if "->" in x]
    assert len(lines) == 16
    assert lines[0] == "inpatient -> completed"


def test_cli_paths_reports_bad_states() -> None:
    result = CliRunner().invoke(main, ["paths", "--from", "mars"])
    assert result.exit_code == 1
    assert "'mars' is not a state" in result.output


@pytest.mark.parametrize(("fmt", "marker"), [("mermaid", "flowchart TD"), ("dot", "digraph")])
def test_cli_diagram(fmt: str, marker: str) -> None:
    result = CliRunner().invoke(main, ["diagram", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(marker)


def test_cli_diagram_svg_needs_dot() -> None:
    result = CliRunner().invoke(main, ["diagram", "--format", "svg"])
    if shutil.which("dot") is None:
        assert result.exit_code == 1
        assert "needs graphviz's 'dot' program" in result.output
    else:  # pragma: no cover - depends on the system
        assert result.exit_code == 0
        assert "<svg" in result.stdout


def test_cli_reads_a_pathway_file(tmp_path: Path) -> None:
    path = tmp_path / "standard.json"
    path.write_text(definitions.dumps(standard_pathway(), "json"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["paths", "--pathway", str(path), "--to", "completed", "--max-steps", "2"]
    )
    assert result.exit_code == 0, result.output
    assert len([x for x in result.stdout.splitlines() if "->" in x]) == 6


def test_plots_colour_levels_apart_and_show_the_setting_as_a_pattern() -> None:
    fig = explore.occupancy(cohort(), days=30)
    by_name = {t.name: t for t in fig.data}
    inpatient = by_name["Inpatient / residential"]
    iop = by_name["Intensive outpatient (IOP)"]
    assert inpatient.fillcolor != iop.fillcolor
    assert {inpatient.fillcolor, iop.fillcolor} <= set(explore.OKABE_ITO)
    assert inpatient.fillpattern.shape == "/"  # residential
    assert iop.fillpattern.shape == ""  # ambulatory
    bars = {t.name: t for t in explore.timeline(sample_episode()).data if t.type == "bar"}
    assert bars["Partial hospitalization (PHP)"].marker.pattern.shape == "."  # day programme
