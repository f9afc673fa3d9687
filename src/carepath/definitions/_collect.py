"""Problems collected while reading a definition, located by key path and line."""

from __future__ import annotations

from collections.abc import Mapping

from carepath._errors import DefinitionProblem, PathwayDefinitionError
from carepath._problems import Path

__all__ = ["Collector", "fail"]


class Collector:
    """Collects problems with key paths and turns them into located ones."""

    def __init__(self, *, file: str, lines: Mapping[Path, int]) -> None:
        self.file = file
        self.lines = lines
        self.found: list[tuple[Path, str, str]] = []

    def add(self, path: Path, message: str, code: str = "invalid_value") -> None:
        self.found.append((path, message, code))

    def __bool__(self) -> bool:
        return bool(self.found)

    def locate(self, path: Path) -> int | None:
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return line
        return None

    def error(self, pathway_id: str = "") -> PathwayDefinitionError:
        seen: set[tuple[Path, str]] = set()
        details: list[DefinitionProblem] = []
        for path, message, code in self.found:
            if (path, message) in seen:
                continue
            seen.add((path, message))
            details.append(
                DefinitionProblem(
                    code=code,
                    message=message,
                    where=path,
                    file=self.file,
                    line=self.locate(path) if path or self.lines else None,
                )
            )
        details.sort(key=lambda d: (d.line is None, d.line or 0))  # stable: file order
        return PathwayDefinitionError(details=details, pathway_id=pathway_id, source=self.file)


def fail(
    message: str,
    *,
    file: str = "",
    line: int | None = None,
    column: int | None = None,
    path: Path = (),
    code: str,
) -> PathwayDefinitionError:
    return PathwayDefinitionError(
        details=[
            DefinitionProblem(
                code=code, message=message, where=path, file=file, line=line, column=column
            )
        ],
        source=file,
    )
