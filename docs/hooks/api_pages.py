"""A Griffe extension for the API reference: links and real signatures.

carepath's docstrings name other objects with Sphinx roles (``:class:`~carepath.Episode```,
``:meth:`Pathway.start```), which Markdown would print as they are. At build time this
extension rewrites each role whose target it can find into a mkdocstrings cross-reference
(``[`Episode`][carepath.Episode]``), so it renders as a link; a role it cannot resolve
becomes plain code. A name is looked up as written, under ``carepath.``, then from the
object's own module, class and package.

attrs classes get their ``__init__`` from attrs at import time, which static analysis
cannot see (the page showed ``Episode()``): for each class that attrs built, the
extension adds an ``__init__`` with the real parameters, taken from the runtime
signature, so the page shows ``Level(*, code: str, name: str, ...)``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|mod|data|exc|obj|const):`(?P<target>[^`]+)`")
_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _candidates(target: str, obj: griffe.Object) -> list[str]:
    """Full paths ``target`` may mean, seen from ``obj``."""
    target = target.lstrip(".")
    out = [target, f"carepath.{target}"]
    scope: griffe.Object | None = obj
    while scope is not None:
        out.append(f"{scope.path}.{target}")
        scope = scope.parent
    return out


def _resolve(target: str, obj: griffe.Object, package: griffe.Module) -> str | None:
    for path in _candidates(target, obj):
        if not path.startswith(package.path):
            continue
        try:
            found = package[path[len(package.path) + 1 :]] if path != package.path else package
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        if found is not None:
            return path
    return None


def rewrite_roles(text: str, obj: griffe.Object, package: griffe.Module) -> str:
    """Sphinx roles in ``text`` as mkdocstrings cross-references (or code when unknown)."""

    def replace(match: re.Match[str]) -> str:
        raw = match["target"].strip()
        short = raw.startswith("~")
        target = raw.lstrip("~").removesuffix("()")
        shown = target.rsplit(".", 1)[-1] if short else target
        if match[0].startswith((":meth:", ":func:", ":py:meth:", ":py:func:")):
            shown += "()"
        path = _resolve(target, obj, package)
        return f"[`{shown}`][{path}]" if path is not None else f"`{shown}`"

    return _ROLE.sub(replace, text)


def _runtime(obj: griffe.Object) -> Any:
    try:
        value: Any = importlib.import_module(obj.module.path)
    except ImportError:
        return None
    for part in obj.path[len(obj.module.path) + 1 :].split("."):
        value = getattr(value, part, None)
    return value


def _attrs_init(cls: griffe.Class) -> griffe.Function | None:
    """An ``__init__`` with attrs' real parameters, or None when attrs did not build one."""
    import attrs

    runtime = _runtime(cls)
    if not (inspect.isclass(runtime) and attrs.has(runtime)) or "__init__" in cls.members:
        return None
    try:
        signature = inspect.signature(runtime)
    except (TypeError, ValueError):
        return None
    params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for p in signature.parameters.values():
        annotation = p.annotation
        if annotation is inspect.Parameter.empty:
            shown = None
        elif isinstance(annotation, str):
            shown = annotation
        else:
            shown = inspect.formatannotation(annotation)
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        params.append(griffe.Parameter(p.name, annotation=shown, kind=_KINDS[p.kind], default=default))
    init = griffe.Function("__init__", parameters=griffe.Parameters(*params), returns="None")
    init.labels.add("instance-method")
    return init


class ApiPages(griffe.Extension):
    """Cross-reference links from Sphinx roles, and attrs classes' real signatures."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != "carepath":
            return
        self._walk(pkg, pkg)

    def _walk(self, obj: griffe.Object, package: griffe.Module) -> None:
        if obj.docstring is not None and "`" in obj.docstring.value:
            obj.docstring.value = rewrite_roles(obj.docstring.value, obj, package)
        if isinstance(obj, griffe.Class):
            init = _attrs_init(obj)
            if init is not None:
                obj.set_member("__init__", init)
        for member in list(obj.members.values()):
            if member.is_alias:
                continue
            self._walk(member, package)  # type: ignore[arg-type]
