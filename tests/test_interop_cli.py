"""The interop extras load lazily, and the ``carepath fhir`` / ``carepath hl7`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carepath import Assessment, Episode, standard_pathway

pytest.importorskip("click")
from click.testing import CliRunner  # after the skip

from carepath.cli import main  # after the skip

_BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == {blocked!r}:
            raise ImportError(name + ' is blocked in this test')
        return None
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_carepath_and_interop_imports_no_extra() -> None:
    out = _run(
        "import sys, carepath, carepath.interop; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fhir', 'fhir_core', 'hl7apy', 'pydantic')))"
    )
    assert out == "[]"


def test_the_hl7_reader_works_without_fhir_resources() -> None:
    code = _BLOCK.format(blocked="fhir") + (
        "from carepath import standard_pathway\n"
        "from carepath.interop import from_hl7v2\n"
        "msg = 'MSH|^~\\\\&|A|B|C|D|202601050900||ADT^A01^ADT_A01|M1|P|2.5\\r"
        "PID|1||P1\\rPV1|1|I||||||||IOP\\r'\n"
        "print(from_hl7v2(msg, standard_pathway()).state)\n"
    )
    assert _run(code) == "iop"


def test_the_fhir_functions_work_without_hl7apy() -> None:
    code = _BLOCK.format(blocked="hl7apy") + (
        "from datetime import datetime, timezone\n"
        "from carepath import standard_pathway\n"
        "from carepath.interop import from_fhir, to_fhir\n"
        "p = standard_pathway()\n"
        "ep = p.start('p1', at=datetime(2026, 1, 5, tzinfo=timezone.utc), episode_id='e1')\n"
        "print(from_fhir(to_fhir(ep, 'R5').model_dump_json(), p) == ep)\n"
    )
    assert _run(code) == "True"


def _episode() -> Episode:
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    ep = standard_pathway().start("patient-1", at=t0, episode_id="ep-1")
    ep.admit("detox", at=t0, assessment=Assessment(withdrawal=3))
    ep.record("step_down", "iop", at=t0 + timedelta(days=2), event_id="MSG-9")
    return ep


def test_fhir_export_then_import_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    episode_file = tmp_path / "episode.json"
    episode_file.write_text(_episode().to_json(), encoding="utf-8")
    for version in ("R4B", "R5"):
        exported = runner.invoke(main, ["fhir", "export", str(episode_file), "--version", version])
        assert exported.exit_code == 0, exported.output
        assert json.loads(exported.output)["resourceType"] == "Bundle"
        bundle_file = tmp_path / f"bundle-{version}.json"
        bundle_file.write_text(exported.output, encoding="utf-8")
        imported = runner.invoke(main, ["fhir", "import", str(bundle_file)])
        assert imported.exit_code == 0, imported.output
        assert Episode.from_json(imported.output, standard_pathway()) == _episode()


def test_fhir_import_of_a_bad_bundle_is_a_clean_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "collection"}', encoding="utf-8")
    result = CliRunner().invoke(main, ["fhir", "import", str(bad)])
    assert result.exit_code == 1
    assert "no episode" in result.output
    assert "Traceback" not in result.output


def test_hl7_replay_prints_history_and_findings(tmp_path: Path) -> None:
    feed = tmp_path / "visit.hl7"
    feed.write_bytes(
        b"MSH|^~\\&|A|B|C|D|202601050900||ADT^A01^ADT_A01|M1|P|2.5\r"
        b"EVN|A01|202601050900\rPID|1||P1\rPV1|1|I||||||||DETOX\r"
        b"MSH|^~\\&|A|B|C|D|202601060900||ADT^A02^ADT_A02|M2|P|2.5\r"
        b"EVN|A02|202601060900\rPID|1||P1\rPV1|1|O||||||||IOP\r"
    )
    result = CliRunner().invoke(main, ["hl7", "replay", str(feed), "--tz", "Europe/Berlin"])
    assert result.exit_code == 0, result.output
    assert "admit" in result.output
    assert "[M2] step_down detox -> iop:" in result.output
    assert "minimum stay" in result.output
    as_json = CliRunner().invoke(main, ["hl7", "replay", str(feed), "--json"])
    assert json.loads(as_json.output)["events"][1]["event_id"] == "M2"
    bad_tz = CliRunner().invoke(main, ["hl7", "replay", str(feed), "--tz", "Mars/Olympus"])
    assert bad_tz.exit_code == 2


_EXAMPLES = Path(__file__).parent.parent / "examples" / "data"


def test_hl7_replay_of_a_multi_visit_feed_prints_courses_with_explained_links() -> None:
    feed = _EXAMPLES / "adt_feed.hl7"
    site = _EXAMPLES / "site_level_map.toml"
    result = CliRunner().invoke(main, ["hl7", "replay", str(feed), "--level-map", str(site)])
    assert result.exit_code == 0, result.output
    assert "course 1 of 3:" in result.output
    assert (
        "episode V1102 patient NRC000202 state transferred_out (2 events, follows episode V1101)"
        in result.output
    )
    assert "step: visit 'V2001' (iop, started by 'NRC00010')" in result.output
    assert "(discharge 'NRC00006', kept for audit)" in result.output
    assert result.output.count("session: visit") == 3
    assert "new_episode: visit 'V1102'" in result.output
    assert "900000101" not in result.output  # the SSN in PID-3 is never the patient id
    assert "RIVERA" not in result.output
    # Without the site map the units are unknown: refused, naming the code to add.
    bare = CliRunner().invoke(main, ["hl7", "replay", str(feed)])
    assert bare.exit_code == 1
    assert "'WMU' to LevelMap.locations" in bare.output
    as_json = CliRunner().invoke(
        main, ["hl7", "replay", str(feed), "--level-map", str(site), "--json"]
    )
    assert [e["id"] for e in json.loads(as_json.output)] == ["V1001", "V1101", "V1102"]


def test_hl7_replay_reads_standard_input_with_a_byte_order_mark(tmp_path: Path) -> None:
    feed = (_EXAMPLES / "adt_feed.hl7").read_bytes()
    site = str(_EXAMPLES / "site_level_map.toml")
    args = ["hl7", "replay", "-", "--level-map", site]
    from_file = CliRunner().invoke(
        main, ["hl7", "replay", str(_EXAMPLES / "adt_feed.hl7"), "--level-map", site]
    )
    piped = CliRunner().invoke(main, args, input=b"\xef\xbb\xbf" + feed)
    assert piped.exit_code == 0, piped.output
    assert piped.output == from_file.output
    bad_map = tmp_path / "map.toml"
    bad_map.write_text("[locations]\nWMU = 'detox'\nsurprise = 1\n", encoding="utf-8")
    refused = CliRunner().invoke(main, [*args[:3], "--level-map", str(bad_map)], input=feed)
    assert refused.exit_code == 1
    assert "LevelMap" in refused.output
