"""The SDC assessment Questionnaire and reading a QuestionnaireResponse into an Assessment."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.questionnaire import Questionnaire
from fhir.resources.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.questionnaire import Questionnaire as Questionnaire4
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as QuestionnaireResponse4,
)
from hypothesis import given
from hypothesis import strategies as st

from carepath import Assessment, Dimension, InteropError
from carepath.cli import main
from carepath.interop import (
    QUESTIONNAIRE_URL,
    RATING_SYSTEM,
    assessment_from_response,
    questionnaire,
    questionnaire_response,
)

ratings = st.integers(min_value=0, max_value=4)
assessments = st.builds(
    Assessment,
    withdrawal=ratings,
    biomedical=ratings,
    emotional=ratings,
    readiness=ratings,
    relapse=ratings,
    environment=ratings,
)


def test_questionnaire_has_one_required_item_per_dimension_with_five_worded_options() -> None:
    q = questionnaire()
    assert q["url"] == QUESTIONNAIRE_URL
    assert [i["linkId"] for i in q["item"]] == [d.value for d in Dimension]
    for item in q["item"]:
        assert item["type"] == "coding"
        assert item["required"] is True
        codings = [o["valueCoding"] for o in item["answerOption"]]
        assert [c["code"] for c in codings] == ["0", "1", "2", "3", "4"]
        assert [c["display"] for c in codings] == [
            "none",
            "mild",
            "moderate",
            "significant",
            "severe",
        ]
        assert {c["system"] for c in codings} == {RATING_SYSTEM}


@pytest.mark.parametrize(
    ("questionnaire_class", "response_class"),
    [(Questionnaire, QuestionnaireResponse), (Questionnaire4, QuestionnaireResponse4)],
)
def test_questionnaire_and_response_are_valid_fhir(
    questionnaire_class: Any, response_class: Any
) -> None:
    """fhir.resources accepts both resources in R5 and R4B."""
    questionnaire_class.model_validate(questionnaire())
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    r = questionnaire_response(Assessment(withdrawal=2), patient="p-1", authored=at)
    response_class.model_validate(r)


@given(assessments)
def test_response_round_trips_every_assessment(a: Assessment) -> None:
    assert assessment_from_response(questionnaire_response(a)) == a
    assert assessment_from_response(json.dumps(questionnaire_response(a))) == a


def test_reads_integer_answers_nested_groups_and_codings_without_system() -> None:
    r = questionnaire_response(Assessment(relapse=3))
    items = r["item"]
    items[0]["answer"] = [{"valueInteger": 2}]
    items[1]["answer"][0]["valueCoding"].pop("system")
    r["item"] = [{"linkId": "section", "item": items}]
    assert assessment_from_response(r) == Assessment(withdrawal=2, relapse=3)


def _response() -> dict[str, Any]:
    return questionnaire_response(Assessment(withdrawal=1), response_id="qr-7")


def _error(r: object) -> InteropError:
    with pytest.raises(InteropError) as info:
        assessment_from_response(r)  # type: ignore[arg-type]  # deliberately malformed
    return info.value


SECRET = "Jane Doe, DOB 1970-01-01"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["item"].pop(2), "item[linkId=emotional]"),
        (lambda r: r["item"][3].pop("answer"), "item[linkId=readiness].answer"),
        (
            lambda r: r["item"][4]["answer"].append(copy.deepcopy(r["item"][4]["answer"][0])),
            "item[linkId=relapse].answer",
        ),
        (
            lambda r: r["item"][0]["answer"][0]["valueCoding"].update(code=SECRET),
            "item[linkId=withdrawal].answer[0].valueCoding.code",
        ),
        (
            lambda r: r["item"][5]["answer"][0]["valueCoding"].update(system=SECRET),
            "item[linkId=environment].answer[0].valueCoding.system",
        ),
        (
            lambda r: r["item"][1]["answer"].__setitem__(0, {"valueInteger": 7}),
            "item[linkId=biomedical].answer[0].valueInteger",
        ),
        (
            lambda r: r["item"][1]["answer"].__setitem__(0, {"valueString": SECRET}),
            "item[linkId=biomedical].answer[0]",
        ),
        (lambda r: r["item"].append(copy.deepcopy(r["item"][0])), "item[linkId=withdrawal]"),
        (lambda r: r["item"].append({"linkId": SECRET, "answer": []}), "item[6].linkId"),
        (lambda r: r.update(status="in-progress"), "status"),
        (lambda r: r.update(questionnaire=SECRET), "questionnaire"),
        (lambda r: r.update(questionnaire=QUESTIONNAIRE_URL + "|2.0"), "questionnaire"),
        (lambda r: r.update(resourceType="Observation"), "resourceType"),
    ],
)
def test_errors_name_the_item_and_never_echo_answers(change: Any, field: str) -> None:
    r = _response()
    change(r)
    err = _error(r)
    assert err.field == field
    assert err.resource == "QuestionnaireResponse/qr-7"
    assert SECRET not in str(err)
    assert "Jane" not in str(err)


def test_an_id_that_is_not_an_id_is_not_repeated() -> None:
    r = _response()
    r["id"] = SECRET
    r["status"] = "draft"
    err = _error(r)
    assert err.resource == "QuestionnaireResponse"
    assert SECRET not in str(err)


@pytest.mark.parametrize(
    "text", ['{"a": 1, "a": 2}', "{not json", '{"x": NaN}', b"\xff\xfe", "[1, 2]"]
)
def test_malformed_json_is_refused_without_quoting_it(text: str | bytes) -> None:
    err = _error(text)
    assert err.resource == "QuestionnaireResponse"
    assert err.problem in {
        "a JSON object repeats a key",
        "not valid JSON (UTF-8, no NaN or Infinity)",
        "expected a JSON object, got list",
    }


def test_cli_writes_the_questionnaire(tmp_path: Any) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["fhir", "questionnaire"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == questionnaire()
    out = tmp_path / "q.json"
    result = runner.invoke(main, ["fhir", "questionnaire", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == questionnaire()


def test_the_questionnaire_needs_no_extra() -> None:
    """``import carepath`` and the questionnaire functions work with no extra installed."""
    blocked = {"starlette", "uvicorn", "httpx", "jwt", "jsonschema", "fhir", "sqlalchemy"}
    script = (
        "import importlib.abc, sys\n"
        f"BLOCKED = {blocked!r}\n"
        "class _Refuse(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, _Refuse())\n"
        "import carepath\n"
        "from carepath.interop import assessment_from_response, questionnaire_response\n"
        "a = carepath.Assessment(withdrawal=2)\n"
        "print(assessment_from_response(questionnaire_response(a)) == a)\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in BLOCKED))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "[]"]
