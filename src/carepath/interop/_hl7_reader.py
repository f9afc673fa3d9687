"""A bounded, linear-time reader of the HL7 v2 segments and fields carepath uses.

Chosen by measurement (``benchmarks/bench_hl7.py``): it reads an ADT message about
two orders of magnitude faster than hl7apy's validated tree and several times faster
than python-hl7, which splits every field of every segment. It splits a feed into
messages, finds the MSH, EVN, PID and PV1 segments and splits only the fields carepath
reads, after checking them against :class:`HL7Limits`. Every step is a ``str.split``,
``str.count`` or ``str.find`` over text already bounded by a limit, so time and memory
grow linearly with the input, whatever separators it is made of.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, final

import attrs

from carepath._errors import InteropError

from ._quote import show

__all__ = [
    "HL7Limits",
    "RawMessage",
    "read_message",
    "split_messages",
    "unescape",
]

STANDARD: Final = "HL7 v2"

VERSIONS: Final = frozenset(
    {"2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"}
    | {"2.8.1", "2.8.2"}
)
"""The HL7 v2 versions (MSH-12) carepath reads."""

_BATCH: Final = frozenset({"FHS", "BHS", "BTS", "FTS"})
# The segments read, each split only as far as its last field read (the rest of the
# segment stays one string, never split: bounded work whatever it holds).
_WANTED: Final = {"MSH": 12, "EVN": 7, "PID": 4, "PV1": 37}


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InteropError(
            standard=STANDARD,
            resource="HL7Limits",
            field=attribute.name,
            problem=f"expected a positive whole number, got {type(value).__name__}"
            if not isinstance(value, int) or isinstance(value, bool)
            else f"expected a positive whole number, got {value}",
        )


@final
@attrs.frozen(kw_only=True)
class HL7Limits:
    """How much of a message carepath reads before refusing it.

    Input past a limit is refused with an :class:`~carepath.InteropError` that names the
    limit, the message (``"message #3"``, its position in the input) and the field
    (``"PID-3"``). Within the limits, reading takes time and memory linear in the input.

    Attributes:
        max_message_chars: Characters in one message (all its segments). Default 1,000,000.
        max_field_chars: Characters in one field carepath reads (MSH-7/9/10/12, EVN-1/2/6,
            PID-3, PV1-2/3/10/19/36). Default 65,536. Fields carepath does not read are
            not split, only bounded by the message size.
        max_repetitions: Repetitions in one field carepath reads (PID-3 lists a patient's
            identifiers). Default 100.
        max_components: Components in one repetition, and subcomponents in one
            component, of a field carepath reads. Default 100.

    >>> HL7Limits(max_repetitions=20).max_repetitions
    20
    """

    max_message_chars: int = attrs.field(default=1_000_000, validator=_positive)
    max_field_chars: int = attrs.field(default=65_536, validator=_positive)
    max_repetitions: int = attrs.field(default=100, validator=_positive)
    max_components: int = attrs.field(default=100, validator=_positive)


def _error(position: int, field: str, problem: str) -> InteropError:
    return InteropError(
        standard=STANDARD, resource=f"message #{position}", field=field, problem=problem
    )


def split_messages(text: str) -> list[list[str]]:
    """The segments of each message in ``text``: segments end in CR (LF and CRLF are
    accepted); MLLP framing characters, a leading byte-order mark and batch or file
    header and trailer segments (FHS, BHS, BTS, FTS) are dropped."""
    if "\x0b" in text or "\x1c" in text:
        text = text.replace("\x0b", "").replace("\x1c", "")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\n" in text:
        text = text.replace("\r\n", "\r").replace("\n", "\r")
    messages: list[list[str]] = []
    for seg in text.split("\r"):
        if not seg or seg.isspace():
            continue
        head = seg[:3]
        if head == "MSH":
            messages.append([seg])
        elif head in _BATCH:
            continue
        elif not messages:
            raise _error(
                1, "MSH", "text before the first MSH segment; every message starts with MSH"
            )
        else:
            messages[-1].append(seg)
    return messages


_ESCAPES: dict[str, re.Pattern[str]] = {}
_HEX: Final = re.compile(r"X((?:[0-9A-Fa-f]{2})+)")


def unescape(text: str, chars: Mapping[str, str]) -> str:
    r"""``text`` with its HL7 v2 escape sequences replaced (``\F\`` -> ``|`` and so on).

    The separators (``F``, ``S``, ``T``, ``R``), the escape character (``E``), the
    truncation character (``P``) and hexadecimal data (``Xhh...``) become the
    characters they stand for; formatting and character-set sequences (``H``, ``N``,
    ``.br``, ``Cxxyy``, ``Mxxyyzz``, ``Z...``) are dropped; anything else is kept as sent.
    Linear in the length of ``text``.
    """
    esc = chars.get("ESCAPE", "")
    if not esc or esc not in text:
        return text
    plain = {
        "F": chars.get("FIELD", "|"),
        "S": chars.get("COMPONENT", "^"),
        "T": chars.get("SUBCOMPONENT", "&"),
        "R": chars.get("REPETITION", "~"),
        "E": esc,
        "P": "#",
    }
    pattern = _ESCAPES.get(esc)
    if pattern is None:
        e = re.escape(esc)
        pattern = _ESCAPES.setdefault(esc, re.compile(f"{e}([^{e}]*){e}"))

    def replace(m: re.Match[str]) -> str:
        seq = m.group(1)
        found = plain.get(seq)
        if found is not None:
            return found
        hexdata = _HEX.fullmatch(seq)
        if hexdata is not None:
            return bytes.fromhex(hexdata.group(1)).decode("latin-1")
        if seq in ("H", "N") or seq.startswith((".", "C", "M", "Z")):
            return ""  # formatting or character-set switch: no text of its own
        return m.group(0)

    return pattern.sub(replace, text)


@final
class RawMessage:
    """The fields carepath reads from one message, split and bounded, not yet unescaped.

    :meth:`get` gives one component's first subcomponent, unescaped and stripped;
    :meth:`repetitions` gives every repetition's components (PID-3).
    """

    __slots__ = ("chars", "limits", "position", "segments", "special", "version")

    def __init__(
        self,
        position: int,
        segments: dict[str, list[str]],
        chars: dict[str, str],
        limits: HL7Limits,
    ) -> None:
        self.position = position
        self.segments = segments
        self.chars = chars
        self.limits = limits
        self.version = ""
        self.special = (
            chars["COMPONENT"],
            chars["REPETITION"],
            chars["SUBCOMPONENT"],
            chars["ESCAPE"],
        )

    def _field(self, segment: str, number: int) -> str:
        fields = self.segments.get(segment)
        if fields is None or number >= len(fields):
            return ""
        raw = fields[number]
        if len(raw) > self.limits.max_field_chars:
            raise _error(
                self.position,
                f"{segment}-{number}",
                f"a {len(raw)}-character field is longer than the limit "
                f"max_field_chars={self.limits.max_field_chars} (HL7Limits)",
            )
        return raw

    def _too_many(self, where: str, count: int, what: str, limit: str, value: int) -> InteropError:
        return _error(
            self.position,
            where,
            f"{count} {what} are more than the limit {limit}={value} (HL7Limits)",
        )

    def _components(self, where: str, repetition: str) -> list[str]:
        chars, limit = self.chars, self.limits.max_components
        comp, sub, esc = chars["COMPONENT"], chars["SUBCOMPONENT"], chars["ESCAPE"]
        n = repetition.count(comp) + 1
        if n > limit:
            raise self._too_many(where, n, "components in one repetition", "max_components", limit)
        parts = repetition.split(comp) if n > 1 else [repetition]
        if sub not in repetition and esc not in repetition:  # the common case
            return [p.strip() for p in parts]
        out: list[str] = []
        for part in parts:
            value = part
            if sub in value:
                m = value.count(sub) + 1
                if m > limit:
                    raise self._too_many(
                        where, m, "subcomponents in one component", "max_components", limit
                    )
                value = value.split(sub, 1)[0]
            if esc in value:
                value = unescape(value, chars)
            out.append(value.strip())
        return out

    def _check_repetitions(self, where: str, raw: str) -> int:
        count = raw.count(self.chars["REPETITION"]) + 1
        limit = self.limits.max_repetitions
        if count > limit:
            raise self._too_many(where, count, "repetitions", "max_repetitions", limit)
        return count

    def repetitions(self, segment: str, number: int) -> list[list[str]]:
        """Each non-empty repetition of a field, as its components (each the first
        subcomponent, unescaped and stripped)."""
        raw = self._field(segment, number)
        if not raw:
            return []
        where = f"{segment}-{number}"
        self._check_repetitions(where, raw)
        return [self._components(where, r) for r in raw.split(self.chars["REPETITION"]) if r]

    def get(self, segment: str, number: int, component: int = 1) -> str:
        """The first subcomponent of one component of a field's first repetition; empty
        when the segment, the field or the component is absent."""
        raw = self._field(segment, number)
        if not raw:
            return ""
        c, r, t, e = self.special
        if c not in raw and r not in raw and t not in raw and e not in raw:
            return raw.strip() if component == 1 else ""  # the common case: a plain value
        where = f"{segment}-{number}"
        if self._check_repetitions(where, raw) > 1:
            raw = raw.split(self.chars["REPETITION"], 1)[0]
        parts = self._components(where, raw)
        return parts[component - 1] if len(parts) >= component else ""


def read_message(segments: list[str], position: int, limits: HL7Limits) -> RawMessage:
    """Split one message's MSH, EVN, PID and PV1 segments into fields (the first of each
    kind), check its size and version, and return them for :meth:`RawMessage.get`.

    Raises:
        InteropError: the message is longer than ``limits.max_message_chars``, its MSH
            segment does not declare usable separators, or its version (MSH-12) is not
            one of 2.1 to 2.8.2.
    """
    size = sum(map(len, segments)) + len(segments) - 1
    if size > limits.max_message_chars:
        raise _error(
            position,
            "",
            f"a {size}-character message is longer than the limit "
            f"max_message_chars={limits.max_message_chars} (HL7Limits)",
        )
    msh = segments[0]
    fs = msh[3:4]
    end = msh.find(fs, 4) if fs else -1
    enc = msh[4:end] if end >= 0 else msh[4:]
    seps = fs + enc[:4]
    if len(enc) < 3 or len(set(seps)) != len(seps) or any(c.isalnum() or c.isspace() for c in seps):
        raise _error(
            position,
            "MSH-2",
            "not a parseable HL7 v2 message: MSH-1 and MSH-2 must declare distinct "
            "separator characters (for example |^~\\&)",
        )
    chars = {
        "FIELD": fs,
        "COMPONENT": enc[0],
        "REPETITION": enc[1],
        "ESCAPE": enc[2],
        "SUBCOMPONENT": enc[3] if len(enc) > 3 else "&",
    }
    found: dict[str, list[str]] = {}
    for seg in segments:
        name = seg[:3]
        splits = _WANTED.get(name)
        if splits is not None and name not in found:
            fields = seg.split(fs, splits)
            if name == "MSH":
                # MSH-1 is the field separator itself: with it inserted, MSH-n is fields[n].
                fields.insert(1, fs)
            found[name] = fields
    raw = RawMessage(position, found, chars, limits)
    version = raw.get("MSH", 12)
    if version not in VERSIONS:
        raise _error(
            position,
            "MSH-12",
            "not a parseable HL7 v2 message: version "
            f"{show(version, what='an HL7 version')} is not one carepath reads (2.1 to 2.8.2)",
        )
    raw.version = version
    return raw
