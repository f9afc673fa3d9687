"""carepath.store: round trips, appends, idempotency, hostile rows, backup, command line.

Every test runs on SQLite and, marked ``postgres``, on PostgreSQL (see _store_support).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carepath
from _store_support import T0, postgres_schema, postgres_server, wipe
from carepath import (
    Assessment,
    CarepathError,
    ConcurrencyConflict,
    CorruptRecord,
    Episode,
    EpisodeNotFound,
    Event,
    PathwayMismatch,
    StoreError,
    standard_pathway,
)
from carepath.store import SCHEMA_VERSION, EpisodeStore
from carepath.testing import episodes

PATHWAY = standard_pathway()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store's URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server, why = postgres_server()
    if server is None:
        pytest.skip(why)
    with postgres_schema(server) as fresh:
        yield fresh


@pytest.fixture
def store(url: str) -> Iterator[EpisodeStore]:
    with EpisodeStore.open(url) as s:
        yield s


def admitted(episode_id: str = "ep-1", patient_id: str = "patient-1") -> Episode:
    ep = PATHWAY.start(patient_id, at=T0, episode_id=episode_id)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3, relapse=2), event_id="MSG001")
    return ep


def raw(store: EpisodeStore, sql: str, **params: object) -> None:
    """Change rows behind the store's back (hostile-input tests)."""
    import sqlalchemy as sa  # noqa: PLC0415

    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


# -- round trips --------------------------------------------------------------------------------


def test_import_carepath_does_not_import_the_store() -> None:
    code = "import sys, carepath; print(sorted(m for m in sys.modules if 'sqlalchemy' in m "
    code += "or m.startswith('carepath.store') or m.startswith('psycopg')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(episode=episodes())
def test_load_of_create_is_the_episode(store: EpisodeStore, episode: Episode) -> None:
    """For any valid episode e, load(create(e)) == e, and its JSON is unchanged."""
    wipe(store)
    assert store.create(episode) == episode.version
    loaded = store.load(episode.id, PATHWAY)
    assert loaded == episode
    assert loaded.to_json() == episode.to_json()
    assert store.version(episode.id) == episode.version


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
@given(batch=st.lists(episodes(max_events=6), min_size=1, max_size=4, unique_by=lambda e: e.id))
def test_export_then_import_gives_the_same_store(
    store: EpisodeStore, tmp_path_factory: pytest.TempPathFactory, batch: list[Episode]
) -> None:
    """Exporting a store and importing the lines into an empty one gives the same export,
    and importing them again changes nothing."""
    wipe(store)
    for ep in batch:
        store.create(ep)
    first = io.StringIO()
    assert store.export(first) == len(batch)
    target = tmp_path_factory.mktemp("copy") / "copy.db"
    with EpisodeStore.open(f"sqlite:///{target}") as copy:
        assert copy.import_episodes(first.getvalue().splitlines()) == len(batch)
        assert copy.import_episodes(first.getvalue().splitlines()) == len(batch)
        second = io.StringIO()
        copy.export(second)
        assert second.getvalue() == first.getvalue()
        for ep in batch:
            assert copy.load(ep.id, PATHWAY) == ep
    for line in first.getvalue().splitlines():  # every line is episode JSON
        assert Episode.from_json(line, PATHWAY).id in {e.id for e in batch}


def test_episodes_lists_by_patient(store: EpisodeStore) -> None:
    first = admitted("ep-1")
    first.transfer_out(at=T0 + timedelta(days=5), event_id="MSG002")
    second = first.readmit(at=T0 + timedelta(days=40), episode_id="ep-2")
    store.create(first)
    store.create(second)
    store.create(admitted("ep-3", patient_id="patient-2"))
    listed = store.episodes(patient_id="patient-1")
    assert [e.id for e in listed] == ["ep-1", "ep-2"]
    assert listed[1].previous_episode_id == "ep-1"
    assert listed[0].state == "transferred_out"
    assert listed[0].version == 2
    assert listed[0].content_hash == PATHWAY.content_hash
    assert len(store.episodes()) == 3
    assert store.load("ep-2", PATHWAY).previous_episode_id == "ep-1"


def test_schema_is_created_once_and_versioned(url: str) -> None:
    with EpisodeStore.open(url) as s:
        assert s.schema_version == SCHEMA_VERSION
        s.create(admitted())
    with EpisodeStore.open(url, create=False) as s:  # reopening keeps the data
        assert s.version("ep-1") == 1
        assert s.check([PATHWAY]) == []


# -- appends ------------------------------------------------------------------------------------


def test_append_and_apply(store: EpisodeStore) -> None:
    store.create(PATHWAY.start("patient-1", at=T0, episode_id="ep-1"))
    ep = store.load("ep-1", PATHWAY)
    ep.admit("detox", at=T0, assessment=Assessment(withdrawal=3), event_id="MSG001")
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    assert store.append("ep-1", ep.history, expected_version=0) == 2
    assert store.load("ep-1", PATHWAY) == ep

    def step(e: Episode) -> None:
        e.step_down(
            "inpatient",
            at=T0 + timedelta(days=4),
            assessment=Assessment(withdrawal=1, relapse=3, environment=3),
            event_id="MSG003",
        )

    after = store.apply("ep-1", PATHWAY, step)
    assert after.version == 3
    assert store.load("ep-1", PATHWAY) == after
    assert store.apply("ep-1", PATHWAY, step).version == 3  # the same id again: a no-op
    assert store.apply("ep-1", PATHWAY, lambda e: None).version == 3


def test_stale_expected_version_conflicts_and_writes_nothing(store: EpisodeStore) -> None:
    store.create(admitted())
    mine, theirs = store.load("ep-1", PATHWAY), store.load("ep-1", PATHWAY)
    theirs.reassess(Assessment(withdrawal=2), at=T0 + timedelta(hours=1), event_id="T1")
    store.append("ep-1", theirs.history[1:], expected_version=1)
    mine.reassess(Assessment(withdrawal=3), at=T0 + timedelta(hours=2), event_id="M1")
    mine.reassess(Assessment(withdrawal=3), at=T0 + timedelta(hours=3), event_id="M2")
    with pytest.raises(ConcurrencyConflict) as info:
        store.append("ep-1", mine.history[1:], expected_version=1)
    assert isinstance(info.value, CarepathError)
    assert (info.value.expected_version, info.value.actual_version) == (1, 2)
    assert "'ep-1'" in str(info.value)
    assert [r.event_id for r in store.load("ep-1", PATHWAY).history] == ["MSG001", "T1"]


def test_an_append_is_all_or_nothing(store: EpisodeStore) -> None:
    """A batch whose later event does not continue the history writes none of its events."""
    store.create(admitted())
    ep = store.load("ep-1", PATHWAY)
    ep.reassess(Assessment(withdrawal=3), at=T0 + timedelta(hours=1), event_id="A")
    other = PATHWAY.start("patient-1", at=T0, episode_id="ep-x")
    other.record(Event.ADMIT, "inpatient", at=T0, event_id="X")
    other.record(
        Event.REASSESS,
        at=T0 + timedelta(hours=2),
        event_id="B",
        assessment=Assessment(withdrawal=1),
    )
    with pytest.raises(ConcurrencyConflict, match="does not continue"):
        store.append("ep-1", [ep.history[1], other.history[1]])
    with pytest.raises(ConcurrencyConflict, match="histories diverge"):
        store.append("ep-1", [ep.history[1], ep.history[0]])
    assert store.version("ep-1") == 1
    assert store.load("ep-1", PATHWAY).history == ep.history[:1]


def test_stored_event_ids_are_no_ops(store: EpisodeStore) -> None:
    ep = admitted()
    store.create(ep)
    assert store.append("ep-1", ep.history) == 1  # already stored
    assert store.append("ep-1", ep.history, expected_version=0) == 1  # a retried append
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(hours=1), event_id="MSG002")
    assert store.append("ep-1", ep.history) == 2  # only the new one is written
    assert store.append("ep-1", [*ep.history, *ep.history]) == 2
    assert store.save(ep) == 2
    assert store.load("ep-1", PATHWAY) == ep


def test_a_different_event_under_a_stored_id_conflicts(store: EpisodeStore) -> None:
    """Two writers on one version make the same default event id for different events:
    the second is a conflict (``apply`` retries it), never silently dropped."""
    store.create(admitted())
    a, b = store.load("ep-1", PATHWAY), store.load("ep-1", PATHWAY)
    a.reassess(Assessment(withdrawal=1, relapse=2), at=T0 + timedelta(days=4))
    b.drop_out(at=T0 + timedelta(days=4, hours=1))
    assert a.history[1].event_id == b.history[1].event_id  # generated, and the same
    assert store.append("ep-1", a.history[1:], expected_version=1) == 2
    with pytest.raises(ConcurrencyConflict, match="already stored for a different event"):
        store.append("ep-1", b.history[1:], expected_version=1)
    with pytest.raises(ConcurrencyConflict, match="different event"):
        store.save(b)
    assert store.version("ep-1") == 2
    # apply runs the change again on what is stored: both events are kept.
    done = store.apply("ep-1", PATHWAY, lambda ep: ep.drop_out(at=T0 + timedelta(days=4, hours=1)))
    assert [r.event for r in done.history] == [Event.ADMIT, Event.REASSESS, Event.DROP_OUT]
    assert store.load("ep-1", PATHWAY) == done


def test_save_refuses_a_history_that_drops_stored_events(store: EpisodeStore) -> None:
    """An episode rebuilt after the EHR cancelled a stored move no longer starts with the
    stored events: saving it is a conflict, not a silent no-op."""
    ep = admitted()
    ep.step_down(
        "inpatient",
        at=T0 + timedelta(days=5),
        event_id="MSG002",
        assessment=Assessment(withdrawal=1, relapse=3, environment=3),
    )
    store.save(ep)
    shorter = admitted()
    with pytest.raises(ConcurrencyConflict, match="not the start of the episode's history"):
        store.save(shorter)
    assert store.version("ep-1") == 2


def test_unknown_episode(store: EpisodeStore) -> None:
    with pytest.raises(EpisodeNotFound, match="'nope'"):
        store.load("nope", PATHWAY)
    with pytest.raises(EpisodeNotFound):
        store.append("nope", admitted().history)
    with pytest.raises(LookupError):
        store.version("nope")


def test_create_twice_is_refused(store: EpisodeStore) -> None:
    store.create(admitted())
    with pytest.raises(StoreError, match="already in the store"):
        store.create(admitted())


# -- idempotency: an HL7 feed with a retried message --------------------------------------------


def adt(trigger: str, control_id: str, at: str, service: str, disposition: str = "") -> str:
    pv1 = ["PV1", "1", "I", *[""] * 7, service, *[""] * 8, "V9001", *[""] * 16, disposition]
    return (
        "\r".join(
            [
                f"MSH|^~\\&|EHR|CLINIC|CAREPATH|CLINIC|{at}||ADT^{trigger}|{control_id}|P|2.5",
                f"EVN|{trigger}|{at}",
                "PID|1||MRN0042^^^CLINIC^MR",
                "|".join(pv1),
            ]
        )
        + "\r"
    )


def test_a_retried_hl7_message_is_stored_once(store: EpisodeStore) -> None:
    """The same control id, delivered twice or replayed again later, gives one event."""
    interop = pytest.importorskip("carepath.interop")
    pytest.importorskip("hl7apy")
    admit = adt("A01", "MSG001", "202601050900", "DETOX")
    transfer = adt("A02", "MSG002", "202601090800", "RES")
    episode = interop.from_hl7v2([admit, transfer, transfer], PATHWAY)
    store.save(episode)
    later = interop.from_hl7v2(
        [admit, transfer, transfer, adt("A03", "MSG003", "202602010900", "RES", "01")], PATHWAY
    )
    store.save(later)
    store.save(later)  # the whole feed again
    stored = store.load(episode.id, PATHWAY)
    assert [r.event_id for r in stored.history] == ["MSG001", "MSG002", "MSG003"]
    assert stored == later


# -- hostile rows -------------------------------------------------------------------------------


@pytest.fixture
def three(store: EpisodeStore) -> EpisodeStore:
    """A store holding 'ep-1' with three events, the last a drop-out with a note."""
    ep = admitted()
    ep.reassess(Assessment(withdrawal=2), at=T0 + timedelta(days=1), event_id="MSG002")
    ep.drop_out(at=T0 + timedelta(days=2), reason="PHI-SECRET left with family", event_id="MSG003")
    store.create(ep)
    return store


@pytest.mark.parametrize(
    ("sql", "seq", "message"),
    [
        (
            'UPDATE carepath_events SET payload = \'{"event_id": "MSG002", \' WHERE seq = 2',
            2,
            "not valid JSON",
        ),
        ("UPDATE carepath_events SET payload = '[1, 2]' WHERE seq = 2", 2, "JSON object"),
        (
            "UPDATE carepath_events SET payload = replace(payload, 'reassess', 'teleport') "
            "WHERE seq = 2",
            2,
            "not a known event",
        ),
        (
            # A row without a digest (NULL) is checked by its shape and the replay only.
            "UPDATE carepath_events SET payload = replace(payload, '\"detox\"', '\"php\"'), "
            "digest = NULL WHERE seq = 2",
            2,
            "recorded source",
        ),
        (
            "UPDATE carepath_events SET payload = replace(payload, 'PHI-SECRET', 'PHI-SECREX') "
            "WHERE seq = 3",
            3,
            "does not match the digest",
        ),
        (
            "UPDATE carepath_events SET payload = :deep WHERE seq = 1",
            1,
            "nested deeper than the limit of 16",
        ),
        (
            "UPDATE carepath_events SET payload = replace(payload, 'MSG003', 'MSG009') "
            "WHERE seq = 3",
            3,
            "event id differs",
        ),
        ("UPDATE carepath_events SET seq = 7 WHERE seq = 3", 7, "out of range"),
        ("UPDATE carepath_episodes SET version = 5", 4, "version is 5 but 3"),
        (
            "INSERT INTO carepath_events (episode_id, seq, event_id, payload, recorded_at) "
            "SELECT episode_id, 4, 'MSG004', payload, recorded_at FROM carepath_events "
            "WHERE seq = 3",
            None,
            "version is 3 but 4",
        ),
    ],
    ids=[
        "bad-json",
        "not-object",
        "unknown-event",
        "wrong-source",
        "digest",
        "too-deep",
        "id-mismatch",
        "seq-gap",
        "version-ahead",
        "extra-row",
    ],
)
def test_corrupted_rows_name_episode_and_sequence_number(
    three: EpisodeStore, sql: str, seq: int | None, message: str
) -> None:
    raw(three, sql, **({"deep": "[" * 100_000} if ":deep" in sql else {}))
    with pytest.raises(CorruptRecord, match=message) as info:
        three.load("ep-1", PATHWAY)
    err = info.value
    assert isinstance(err, CarepathError)
    assert (err.episode_id, err.seq) == ("ep-1", seq)
    assert "'ep-1'" in str(err)
    if seq is not None:
        assert f"seq {seq}" in str(err)
    assert "PHI-SECRET" not in str(err)
    problems = three.check([PATHWAY])
    assert problems
    assert not any("PHI-SECRET" in p for p in problems)


def test_wrong_pathway_hash(three: EpisodeStore) -> None:
    raw(three, "UPDATE carepath_episodes SET content_hash = 'f00d'")
    with pytest.raises(PathwayMismatch):
        three.load("ep-1", PATHWAY)
    other = carepath.load_catalog("asam4") if "asam4" in carepath.catalogs() else None
    if other is not None and other.content_hash != PATHWAY.content_hash:
        raw(three, "UPDATE carepath_episodes SET content_hash = :h", h=PATHWAY.content_hash)
        with pytest.raises(PathwayMismatch):
            three.load("ep-1", other)


def test_a_schema_version_without_a_migration_is_a_store_error(url: str) -> None:
    with EpisodeStore.open(url) as s:
        raw(s, "UPDATE carepath_schema SET version = -1")
    with pytest.raises(StoreError, match=r"schema version -1.*no migration"):
        EpisodeStore.open(url)


def test_apply_refuses_negative_retries(store: EpisodeStore) -> None:
    store.create(admitted())
    with pytest.raises(StoreError, match="retries must be a whole number"):
        store.apply("ep-1", PATHWAY, lambda ep: None, retries=-1)


def test_text_that_is_not_valid_unicode_is_kept(store: EpisodeStore) -> None:
    """A lone surrogate in a note (Python strings allow it; UTF-8 does not) is stored
    escaped and loads back as it was, instead of failing in the database driver."""
    ep = admitted()
    ep.drop_out(at=T0 + timedelta(days=1), reason="left \ud800 early")
    store.create(ep)
    back = store.load("ep-1", PATHWAY)
    assert back == ep
    assert back.history[-1].note == ep.history[-1].note


def test_a_newer_schema_is_refused(url: str) -> None:
    with EpisodeStore.open(url) as s:
        raw(s, "UPDATE carepath_schema SET version = 99")
    with pytest.raises(StoreError, match="schema version 99"):
        EpisodeStore.open(url)


def test_bad_urls_and_unreachable_servers(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        EpisodeStore.open("no url at all")
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        EpisodeStore.open("mysql://localhost/x")
    with pytest.raises(StoreError, match="database error"):
        EpisodeStore.open(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(StoreError, match="no carepath store"):
        EpisodeStore.open(f"sqlite:///{tmp_path / 'empty.db'}", create=False)


@pytest.mark.postgres
def test_an_unreachable_postgres_is_a_store_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="database error") as info:
        EpisodeStore.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/x", timeout=2)
    assert "secret" not in str(info.value)


def test_a_clock_must_be_aware(url: str) -> None:
    from datetime import datetime  # noqa: PLC0415

    naive = datetime(2026, 1, 1)  # noqa: DTZ001  # deliberately naive
    with (
        EpisodeStore.open(url, clock=lambda: naive) as s,
        pytest.raises(StoreError, match="timezone-aware"),
    ):
        s.create(admitted())


def test_import_rejects_lines_that_are_not_exports(store: EpisodeStore) -> None:
    with pytest.raises(CorruptRecord, match="line 1: not valid JSON"):
        store.import_episodes(["{"])
    with pytest.raises(CorruptRecord, match="line 2: not a carepath episode "):
        store.import_episodes(["", json.dumps({"format": "other"})])


def test_import_refuses_events_that_do_not_follow_one_another(
    store: EpisodeStore, tmp_path: Path
) -> None:
    """A new episode's events are checked as an append's are: a chain that jumps from
    another state is refused, and nothing of that line is stored."""
    ep = admitted()
    ep.step_down(
        "inpatient",
        at=T0 + timedelta(days=5),
        event_id="MSG002",
        assessment=Assessment(withdrawal=1, relapse=3, environment=3),
    )
    with EpisodeStore.open(f"sqlite:///{tmp_path / 'src.db'}") as source:
        source.create(ep)
        buffer = io.StringIO()
        source.export(buffer)
    exported = json.loads(buffer.getvalue().splitlines()[0])
    exported["events"][1]["source"] = "php"  # does not continue 'detox'
    with pytest.raises(ConcurrencyConflict, match="does not continue"):
        store.import_episodes([json.dumps(exported)])
    with pytest.raises(EpisodeNotFound):
        store.load("ep-1", PATHWAY)


# -- command line -------------------------------------------------------------------------------


def test_command_line(three: EpisodeStore, tmp_path: Path) -> None:
    click_testing = pytest.importorskip("click.testing")
    from carepath.cli import main  # noqa: PLC0415

    runner = click_testing.CliRunner()
    url = three.url if "***" not in three.url else None
    if url is None:
        pytest.skip("the URL has a hidden password")
    result = runner.invoke(main, ["store", "init", url])
    assert result.exit_code == 0, result.output
    assert f"schema version {SCHEMA_VERSION}, 1 episodes" in result.output
    result = runner.invoke(main, ["store", "show", url, "ep-1", "--replay"])
    assert result.exit_code == 0, result.output
    assert "MSG003" in result.output
    assert "state dropped_out" in result.output
    assert "PHI-SECRET" not in result.output
    result = runner.invoke(main, ["store", "export", url])
    assert result.exit_code == 0, result.output
    backup = tmp_path / "episodes.jsonl"
    backup.write_text(
        "\n".join(line for line in result.output.splitlines() if line.startswith("{")) + "\n",
        encoding="utf-8",
    )
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    result = runner.invoke(main, ["store", "import", copy, str(backup)])
    assert result.exit_code == 0, result.output
    assert "imported 1 episodes" in result.output
    result = runner.invoke(main, ["store", "check", copy])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["store", "show", url, "nope"])
    assert result.exit_code == 1
    assert "no such episode" in result.output
    raw(three, "UPDATE carepath_events SET payload = 'x' WHERE seq = 2")
    result = runner.invoke(main, ["store", "check", url])
    assert result.exit_code == 1
    assert "seq 2" in result.output


def test_event_record_to_dict_is_an_item_of_episode_to_dict() -> None:
    ep = admitted()
    assert [r.to_dict() for r in ep.history] == ep.to_dict()["events"]
    assert ep.history[0].event is Event.ADMIT


def test_a_version_1_store_is_migrated_and_its_rows_get_digests(url: str) -> None:
    """Schema 1 had no digests: opening such a store adds the column and fills it, so
    the rows then read as before and a later change behind the store's back is found."""
    with EpisodeStore.open(url) as s:
        s.create(admitted())
        raw(s, "ALTER TABLE carepath_events DROP COLUMN digest")
        raw(s, "UPDATE carepath_schema SET version = 1")
    with EpisodeStore.open(url) as s:
        assert s.schema_version == SCHEMA_VERSION == 2
        assert s.load("ep-1", PATHWAY) == admitted()
        assert s.check([PATHWAY]) == []
        raw(s, "UPDATE carepath_events SET payload = replace(payload, 'detox', 'php')")
        problems = s.check([PATHWAY])
    assert len(problems) == 1
    assert "carepath_events" in problems[0]
    assert "seq 1" in problems[0]
