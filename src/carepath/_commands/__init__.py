"""Command-line areas; each module defines ``register(group: click.Group) -> None``."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TypeVar

import click

from carepath._errors import CarepathError
from carepath._pathway import Pathway, standard_pathway
from carepath._textio import TextInputError, iter_lines, read_path
from carepath.definitions import GuardFactory, load

PATHWAY_HELP = "A pathway definition file (.toml or .json); the standard pathway if omitted."

_F = TypeVar("_F", bound=Callable[..., object])


def _load_guards(
    ctx: click.Context, param: click.Parameter, spec: str | None
) -> Mapping[str, GuardFactory] | None:
    """Import ``module:name``, a mapping of custom guard kinds to factories.

    A click callback: click names the option in the errors.
    """
    if spec is None:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise click.BadParameter("expected MODULE:NAME, e.g. myprogramme.guards:GUARDS")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # user code: any failure is reported, never a traceback
        raise click.BadParameter(
            f"cannot import {module_name}: {_failure(exc, module_name)}"
        ) from None
    try:
        found = getattr(module, attr)
    except AttributeError:
        raise click.BadParameter(
            f"cannot import {spec}: module {module_name} has no {attr!r}"
        ) from None
    if not isinstance(found, Mapping):
        raise click.BadParameter(
            f"{spec} is a {type(found).__name__}, not a mapping of guard kinds to factories"
        )
    return found


def _failure(exc: BaseException, module_name: str) -> str:
    """The exception's type and where it was raised (file and line), never a traceback."""
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError):
        return f"{kind} in {exc.filename or module_name} at line {exc.lineno}"
    if isinstance(exc, ModuleNotFoundError) and exc.name is not None:
        return f"{kind}: no module named {exc.name!r}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    if not frames:
        return kind
    return f"{kind} in {frames[-1].filename} at line {frames[-1].lineno}"


def guards_option(*decls: str) -> Callable[[_F], _F]:
    """The shared ``--guards MODULE:NAME`` option; the command gets the mapping as ``guards``.

    ``decls`` replaces the option's name where a command already has a ``--guards``
    of its own (``carepath diagram``).
    """
    return click.option(
        *(decls or ("--guards",)),
        "guards",
        metavar="MODULE:NAME",
        default=None,
        callback=_load_guards,
        help="A mapping of custom guard kinds to factories, e.g. myprogramme.guards:GUARDS.",
    )


def load_pathway(path: str | None, guards: Mapping[str, GuardFactory] | None = None) -> Pathway:
    """The pathway in ``path`` (with custom ``guards``), or the standard one.

    Problems become a click error.
    """
    if path is None:
        return standard_pathway()
    read_input(path)  # unreadable, empty or not UTF-8: one line, exit status 2
    try:
        return load(path, guards=guards)
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None


class InputError(click.ClickException):
    """An input file the command cannot read: one line on stderr, exit status 2."""

    exit_code = 2


def read_input(path: str) -> str:
    """The text of ``path`` (``-``: standard input), a UTF-8 BOM stripped.

    Raises:
        InputError: missing, unreadable, a directory, empty, or not UTF-8 (the byte
            offset named), as one line.
    """
    try:
        text = read_path(path)
    except TextInputError as exc:
        raise InputError(str(exc)) from None
    if not text.strip():
        raise InputError(f"{'<stdin>' if path == '-' else path}: empty input")
    return text


def input_lines(path: str) -> Iterator[str]:
    """The lines of ``path`` (``-``: standard input), decoded strictly, a BOM stripped;
    the file is opened now and read lazily, so a large file is never held in memory.

    Raises:
        InputError: as :func:`read_input` (an empty file too); a file that cannot be
            opened at once, bad content while iterating.
    """
    name = "<stdin>" if path == "-" else path
    try:
        stream: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise InputError(f"{name}: cannot read the file: {why}") from None
    except ValueError:
        raise InputError(f"{name}: cannot read the file: not a valid path") from None
    return _lines(stream, name, close=path != "-")


def _lines(stream: IO[bytes], name: str, *, close: bool) -> Iterator[str]:
    try:
        empty = True
        for _, line in iter_lines(stream, source=name):
            if line.strip():
                empty = False
            yield line
        if empty:
            raise InputError(f"{name}: empty input")
    except TextInputError as exc:
        raise InputError(str(exc)) from None
    finally:
        if close:
            stream.close()
