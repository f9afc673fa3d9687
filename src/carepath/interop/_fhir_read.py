"""Entry points for FHIR other systems wrote: bundles of any type, lists of resources, and
Bulk Data NDJSON, read into each patient's episodes."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from carepath._errors import InteropError
from carepath._textio import TextInputError, iter_lines, load_json

from ._codemap import CodeMap
from ._fhir_common import EXT_PATHWAY
from ._fhir_foreign import Collector, FhirImport
from ._fhir_stays import build
from ._stitching import Stitching

if TYPE_CHECKING:
    from carepath._episode import Episode
    from carepath._pathway import Pathway

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "episodes_from_fhir_ndjson",
    "is_carepath_bundle",
    "one_episode",
    "read_fhir",
]

_log = logging.getLogger("carepath.interop")

DEFAULT_MAX_BYTES: Final = 512 * 1024 * 1024
"""The largest FHIR JSON document read at once (``max_bytes``), 512 MiB."""
DEFAULT_MAX_LINE_BYTES: Final = 16 * 1024 * 1024
"""The longest NDJSON line (one resource) read (``max_line_bytes``), 16 MiB."""
_BUNDLE_TYPES: Final = frozenset(
    {
        "transaction",
        "collection",
        "searchset",
        "batch",
        "batch-response",
        "transaction-response",
        "history",
        "document",
        "message",
    }
)


def parse_json(text: str | bytes | bytearray, *, what: str, max_bytes: int) -> Any:
    """Strict JSON (carepath._textio: BOM stripped, UTF-8 with byte offsets, no duplicate
    keys, bounded size and depth); errors name ``what``."""
    try:
        return load_json(text, source=what, max_bytes=max_bytes)
    except TextInputError as exc:
        raise _interop_error(exc, what) from None


def _interop_error(exc: TextInputError, what: str) -> InteropError:
    """The text reader's error as an InteropError naming the document, line and column."""
    field = ""
    if exc.line is not None:
        field = f"line {exc.line}" + (f" column {exc.column}" if exc.column is not None else "")
    elif exc.pointer:
        field = exc.pointer
    return InteropError(standard="FHIR", resource=what, field=field, problem=exc.problem)


def is_carepath_bundle(data: object) -> bool:
    """Whether ``data`` is a Bundle carepath wrote (an EpisodeOfCare with its event log)."""
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        return False
    entries = data.get("entry")
    for e in entries if isinstance(entries, list) else ():
        res = e.get("resource") if isinstance(e, Mapping) else None
        if isinstance(res, Mapping) and res.get("resourceType") == "EpisodeOfCare":
            exts = res.get("extension")
            for x in exts if isinstance(exts, list) else ():
                if isinstance(x, Mapping) and x.get("url") == EXT_PATHWAY:
                    return True
    return False


def _feed(collector: Collector, data: object) -> None:
    """Every resource of a Bundle (any type), a list of resources, or one resource."""
    if isinstance(data, list):
        for res in data:
            collector.add(res)
        return
    if not isinstance(data, Mapping):
        raise InteropError(
            standard="FHIR",
            resource="input",
            problem=f"expected a Bundle, a resource or a list of resources, got "
            f"{type(data).__name__}",
        )
    if data.get("resourceType") != "Bundle":
        collector.add(data)
        return
    kind = data.get("type")
    if kind not in _BUNDLE_TYPES:
        raise InteropError(
            standard="FHIR",
            resource="Bundle",
            field="type",
            problem="not a Bundle type; allowed: " + ", ".join(sorted(_BUNDLE_TYPES)),
        )
    links = data.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, Mapping) and link.get("relation") == "next":
            collector.finding(
                "partial-page",
                "Bundle",
                "a searchset page with a next link: this is one page of the results, so "
                "stays on other pages are missing; read every page (or use Bulk Data)",
            )
    entries = data.get("entry")
    for e in entries if isinstance(entries, list) else ():
        if not isinstance(e, Mapping):
            continue
        res = e.get("resource")
        if res is None:
            continue  # a batch-response entry without a resource
        url = e.get("fullUrl")
        collector.add(res, url if isinstance(url, str) else None)


def read_fhir(
    data: object,
    pathway: Pathway,
    *,
    code_map: CodeMap | None = None,
    tz: tzinfo = UTC,
    stitching: Stitching | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FhirImport:
    """Each patient's episodes from FHIR an EHR wrote, with what was ignored or found.

    Args:
        data: A Bundle of any type (transaction, collection, searchset, batch-response,
            ...), a list of resources, or one resource: JSON text or parsed JSON.
            R4, R4B and R5 shapes are read alike.
        pathway: The pathway whose levels the code map names.
        code_map: Which codes mean which level; :class:`CodeMap` () by default.
        tz: The zone of date-only times (midnight) and times without an offset.
        stitching: How Encounters without an EpisodeOfCare are grouped into episodes
            (the policy the HL7 reader shares); :class:`Stitching` () by default.
        max_bytes: Text longer than this is refused.

    Raises:
        InteropError: not JSON, too large, or a patient has stays of which none maps
            to a level (the error lists the codes to add), or a stay the pathway
            cannot record.
    """
    if isinstance(data, str | bytes | bytearray):
        data = parse_json(data, what="input", max_bytes=max_bytes)
    collector = Collector(code_map if code_map is not None else CodeMap())
    _feed(collector, data)
    return build(collector, pathway, tz, stitching)


def one_episode(result: FhirImport) -> Episode:
    """The one episode of a foreign import (what :func:`from_fhir` returns); the findings
    are logged on ``carepath.interop`` (ids and codes only)."""
    for f in result.findings:
        _log.warning("FHIR import: %s", f)
    episodes = [e for eps in result.episodes.values() for e in eps]
    if len(episodes) != 1:
        raise InteropError(
            standard="FHIR",
            resource="Bundle",
            problem=f"holds {len(episodes)} episodes of {len(result.episodes)} patients; "
            "from_fhir returns one: use read_fhir for each patient's episodes",
        )
    return episodes[0]


def _lines(
    source: str | bytes | os.PathLike[str], max_line_bytes: int
) -> Iterator[tuple[str, int, str | bytes]]:
    if isinstance(source, bytes) or (isinstance(source, str) and source.lstrip().startswith("{")):
        yield "NDJSON line", 0, source
        return
    path = Path(source)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InteropError(
            standard="FHIR", resource=path.name, problem=f"cannot read ({type(exc).__name__})"
        ) from None
    with handle:
        try:
            for n, line in iter_lines(handle, source=path.name, max_line_bytes=max_line_bytes):
                yield path.name, n, line
        except TextInputError as exc:
            raise _interop_error(exc, path.name) from None


def episodes_from_fhir_ndjson(
    paths_or_lines: Iterable[str | bytes | os.PathLike[str]],
    pathway: Pathway,
    *,
    code_map: CodeMap | None = None,
    tz: tzinfo = UTC,
    stitching: Stitching | None = None,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> FhirImport:
    """Each patient's episodes from a FHIR Bulk Data export (NDJSON: one resource a line).

    The files (or lines) are streamed: each resource is reduced to the few facts
    carepath needs as it is read, so memory grows with the number of stays, not with
    the size of the export. Files may come in any order (``Patient.ndjson``,
    ``Encounter.ndjson``, ``Observation.ndjson``, ...).

    Args:
        paths_or_lines: File paths (``str`` or :class:`~pathlib.Path`), or NDJSON lines
            (a ``str`` starting with ``{``, or ``bytes``).
        pathway, code_map, tz, stitching: As for :func:`read_fhir`.
        max_line_bytes: A longer line is refused.

    Raises:
        InteropError: a file cannot be read, a line is not JSON or too long (named by
            file and line number), or as for :func:`read_fhir`.
    """
    collector = Collector(code_map if code_map is not None else CodeMap())
    for source in paths_or_lines:
        for name, n, line in _lines(source, max_line_bytes):
            if not line.strip():
                continue
            where = f"line {n}" if n else ""
            try:
                res = load_json(line, source=name, max_bytes=max_line_bytes)
            except TextInputError as exc:
                col = f" column {exc.column}" if exc.column is not None else ""
                raise InteropError(
                    standard="FHIR", resource=name, field=where + col, problem=exc.problem
                ) from None
            if not isinstance(res, dict):
                raise InteropError(
                    standard="FHIR", resource=name, field=where, problem="not a JSON object"
                )
            collector.add(res)
    return build(collector, pathway, tz, stitching)
