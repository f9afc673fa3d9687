"""The six-dimension assessment as an SDC Questionnaire, and a QuestionnaireResponse read back.

The Questionnaire has one required ``coding`` item per dimension (``linkId`` is the
dimension's name: ``"withdrawal"``, ``"biomedical"``, ...) with five answer options,
the ratings 0-4 and their words (none, mild, moderate, significant, severe), each
carrying its rating as an ``itemWeight`` / ``ordinalValue`` extension. It is plain
JSON that is valid in FHIR R4B and R5, so these functions need no extra.

:func:`assessment_from_response` is deliberately small and public: any FHIR reader
(the Bundle importer, the CDS Hooks service) hands it one QuestionnaireResponse and
gets an :class:`~carepath.Assessment` or an :class:`~carepath.InteropError` that
names the item's ``linkId`` and the field, never what the sender wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from carepath._assessment import DIMENSIONS, Assessment, Dimension, Risk
from carepath._errors import InteropError

from ._codes import CAREPATH_FHIR
from ._fhir import DIMENSION_SYSTEM

__all__ = [
    "QUESTIONNAIRE_URL",
    "QUESTIONNAIRE_VERSION",
    "RATING_SYSTEM",
    "assessment_from_response",
    "questionnaire",
    "questionnaire_response",
]

QUESTIONNAIRE_URL: Final = f"{CAREPATH_FHIR}/Questionnaire/assessment"
"""Canonical URL of the six-dimension assessment Questionnaire."""
QUESTIONNAIRE_VERSION: Final = "1.0.0"
"""Version of the Questionnaire (``QuestionnaireResponse.questionnaire`` may pin it with ``|``)."""
RATING_SYSTEM: Final = f"{CAREPATH_FHIR}/CodeSystem/rating"
"""Code system of the ratings 0-4 (codes ``"0"`` to ``"4"``, displays ``"none"`` ...)."""

_SDC_PROFILE: Final = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
_ITEM_WEIGHT: Final = "http://hl7.org/fhir/StructureDefinition/itemWeight"
_ORDINAL_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
_STANDARD: Final = "FHIR"
_ID: Final = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_DONE: Final = frozenset({"completed", "amended"})

_QUESTIONS: Final[Mapping[Dimension, str]] = {
    Dimension.WITHDRAWAL: "Dimension 1: acute intoxication and withdrawal potential",
    Dimension.BIOMEDICAL: "Dimension 2: biomedical conditions and complications",
    Dimension.EMOTIONAL: "Dimension 3: emotional, behavioural or cognitive conditions",
    Dimension.READINESS: "Dimension 4: readiness to change (higher = less ready)",
    Dimension.RELAPSE: "Dimension 5: relapse, continued use or continued problem potential",
    Dimension.ENVIRONMENT: "Dimension 6: recovery / living environment (higher = less safe)",
}


def _rating_coding(r: Risk) -> dict[str, str]:
    return {"system": RATING_SYSTEM, "code": str(int(r)), "display": r.label}


def questionnaire() -> dict[str, Any]:
    """The SDC Questionnaire for the six assessment dimensions, as FHIR JSON data.

    >>> q = questionnaire()
    >>> [item["linkId"] for item in q["item"]]
    ['withdrawal', 'biomedical', 'emotional', 'readiness', 'relapse', 'environment']
    >>> [o["valueCoding"]["display"] for o in q["item"][0]["answerOption"]]
    ['none', 'mild', 'moderate', 'significant', 'severe']
    """
    items = []
    for d in DIMENSIONS:
        items.append(
            {
                "linkId": d.value,
                "code": [{"system": DIMENSION_SYSTEM, "code": d.value, "display": d.label}],
                "text": _QUESTIONS[d],
                "type": "coding",
                "required": True,
                "repeats": False,
                "answerOption": [
                    {
                        "extension": [
                            {"url": _ITEM_WEIGHT, "valueDecimal": int(r)},
                            {"url": _ORDINAL_VALUE, "valueDecimal": int(r)},
                        ],
                        "valueCoding": _rating_coding(r),
                    }
                    for r in Risk
                ],
            }
        )
    return {
        "resourceType": "Questionnaire",
        "id": "carepath-assessment",
        "meta": {"profile": [_SDC_PROFILE]},
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "name": "CarepathAssessment",
        "title": "Level-of-care assessment: six dimensions rated 0-4",
        "status": "active",
        "subjectType": ["Patient"],
        "description": (
            "Six dimensions in the style of the ASAM Criteria, each rated 0-4 (none, mild, "
            "moderate, significant, severe). carepath's own heuristics place the patient "
            "from these ratings; they are not the proprietary ASAM decision rules."
        ),
        "item": items,
    }


def questionnaire_response(
    assessment: Assessment,
    *,
    patient: str | None = None,
    authored: datetime | None = None,
    response_id: str | None = None,
) -> dict[str, Any]:
    """A completed QuestionnaireResponse carrying ``assessment`` (FHIR JSON data).

    ``patient`` is a FHIR Patient id (the subject); ``authored`` a timezone-aware time.
    :func:`assessment_from_response` reads it back exactly.
    """
    if not isinstance(assessment, Assessment):
        raise InteropError(
            standard=_STANDARD,
            resource="QuestionnaireResponse",
            problem=f"expected an Assessment, got {type(assessment).__name__}",
        )
    res: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if response_id is not None:
        res["id"] = response_id
    res["questionnaire"] = f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}"
    res["status"] = "completed"
    if patient is not None:
        res["subject"] = {"reference": f"Patient/{patient}"}
    if authored is not None:
        if authored.tzinfo is None or authored.utcoffset() is None:
            raise InteropError(
                standard=_STANDARD,
                resource="QuestionnaireResponse",
                field="authored",
                problem="naive datetime; pass a timezone-aware one",
            )
        res["authored"] = authored.isoformat()
    res["item"] = [
        {"linkId": d.value, "answer": [{"valueCoding": _rating_coding(r)}]}
        for d, r in assessment.items()
    ]
    return res


def assessment_from_response(response: Mapping[str, Any] | str | bytes) -> Assessment:
    """Read a QuestionnaireResponse to the six-dimension Questionnaire into an Assessment.

    Accepts FHIR JSON (text or parsed data). Each dimension's item (``linkId`` the
    dimension's name, nested groups allowed) needs exactly one answer: a
    ``valueCoding`` with code ``"0"``-``"4"`` (system :data:`RATING_SYSTEM` or none), or
    a ``valueInteger`` 0-4. The status must be ``completed`` or ``amended``.

    Raises:
        InteropError: naming the item's ``linkId`` and the field (a missing, repeated,
            unknown or out-of-range answer; the wrong Questionnaire or status). The
            message never repeats an answer or any text the sender wrote.

    >>> from carepath import Assessment
    >>> a = Assessment(withdrawal=3, relapse=2)
    >>> assessment_from_response(questionnaire_response(a)) == a
    True
    """
    data = _parse(response)
    where = "QuestionnaireResponse"
    rid = data.get("id")
    if isinstance(rid, str) and _ID.match(rid):
        where = f"QuestionnaireResponse/{rid}"

    def fail(field: str, problem: str) -> InteropError:
        return InteropError(standard=_STANDARD, resource=where, field=field, problem=problem)

    if data.get("resourceType") != "QuestionnaireResponse":
        raise fail("resourceType", "expected a QuestionnaireResponse")
    canonical = data.get("questionnaire")
    if canonical is not None:
        if not isinstance(canonical, str):
            raise fail("questionnaire", "expected a canonical URL string")
        url, _, version = canonical.partition("|")
        if url != QUESTIONNAIRE_URL:
            raise fail(
                "questionnaire", f"answers another Questionnaire; expected {QUESTIONNAIRE_URL}"
            )
        if version and version.split(".")[0] != QUESTIONNAIRE_VERSION.split(".")[0]:
            raise fail(
                "questionnaire",
                f"answers a version this carepath does not read; expected {QUESTIONNAIRE_VERSION}",
            )
    status = data.get("status")
    if status not in _DONE:
        raise fail(
            "status",
            "the response is not finished; expected status completed or amended"
            if isinstance(status, str)
            else "missing or not a code; expected completed or amended",
        )
    found: dict[str, tuple[str, Mapping[str, Any]]] = {}
    _collect(data.get("item"), "item", found, fail)
    ratings: dict[str, int] = {}
    for d in DIMENSIONS:
        if d.value not in found:
            raise fail(
                f"item[linkId={d.value}]", "no answer for this dimension; every item is required"
            )
        path, item = found[d.value]
        ratings[d.value] = _rating(item, path, fail)
    return Assessment.from_mapping(ratings)


def strict_json(text: str | bytes) -> tuple[object, str | None]:
    """``(data, None)``, or ``(None, problem)`` for text that is not strict JSON: not UTF-8,
    not JSON, a repeated key, NaN or Infinity, or nested too deeply. The problem never
    quotes the text."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _DuplicateKey:
        return None, "a JSON object repeats a key"
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError:
        return None, "not valid JSON (UTF-8, no NaN or Infinity)"
    return data, None


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _parse(response: object) -> Mapping[str, Any]:
    if isinstance(response, str | bytes):
        parsed, problem = strict_json(response)
        if problem is not None:
            raise InteropError(
                standard=_STANDARD, resource="QuestionnaireResponse", problem=problem
            )
        response = parsed
    if not isinstance(response, Mapping):
        raise InteropError(
            standard=_STANDARD,
            resource="QuestionnaireResponse",
            problem=f"expected a JSON object, got {type(response).__name__}",
        )
    return response


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey
        out[key] = value
    return out


_Fail = Callable[[str, str], InteropError]


def _collect(
    items: object, path: str, found: dict[str, tuple[str, Mapping[str, Any]]], fail: _Fail
) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise fail(path, "expected a list of items")
    known = {d.value for d in DIMENSIONS}
    for i, item in enumerate(items):
        here = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            raise fail(here, "expected an item object")
        link = item.get("linkId")
        if not isinstance(link, str):
            raise fail(f"{here}.linkId", "missing or not a string")
        if link in known:
            if link in found:
                raise fail(f"item[linkId={link}]", "answered twice; each dimension once")
            found[link] = (f"item[linkId={link}]", item)
        elif "item" not in item:
            raise fail(
                f"{here}.linkId",
                "not an item of the assessment Questionnaire; the items are "
                + ", ".join(d.value for d in DIMENSIONS),
            )
        _collect(item.get("item"), f"{here}.item", found, fail)


def _rating(item: Mapping[str, Any], path: str, fail: _Fail) -> int:
    answers = item.get("answer")
    if not isinstance(answers, list) or not answers:
        raise fail(f"{path}.answer", "no answer for this dimension; every item is required")
    if len(answers) != 1:
        raise fail(f"{path}.answer", f"{len(answers)} answers; expected exactly one rating")
    answer = answers[0]
    if not isinstance(answer, Mapping):
        raise fail(f"{path}.answer[0]", "expected an answer object")
    allowed = "expected a rating 0-4 (none, mild, moderate, significant, severe)"
    if "valueCoding" in answer:
        coding = answer["valueCoding"]
        if not isinstance(coding, Mapping):
            raise fail(f"{path}.answer[0].valueCoding", "expected a Coding")
        system = coding.get("system")
        if system is not None and system != RATING_SYSTEM:
            raise fail(
                f"{path}.answer[0].valueCoding.system",
                f"a code from another code system; expected {RATING_SYSTEM}",
            )
        code = coding.get("code")
        if not isinstance(code, str) or code not in {"0", "1", "2", "3", "4"}:
            raise fail(f"{path}.answer[0].valueCoding.code", allowed)
        return int(code)
    if "valueInteger" in answer:
        value = answer["valueInteger"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise fail(f"{path}.answer[0].valueInteger", allowed)
        return value
    raise fail(f"{path}.answer[0]", f"no valueCoding or valueInteger; {allowed}")
