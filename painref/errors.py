"""Errors that reach the user as one clear line (exit code 2), never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, repr=False, eq=False)
class Problem:
    """One problem in a knowledge-base file."""

    file: str
    message: str
    line: int | None = None
    entry: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entry:
            parts.append(f"entry {self.entry!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + f": {self.message}"


class PainrefError(Exception):
    """An expected failure: bad input or bad data. Printed as one line, exit 2."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class DataError(PainrefError):
    """The knowledge base failed to load or validate; carries every problem found."""

    def __init__(self, problems: list[Problem], hint: str | None = None) -> None:
        first = str(problems[0]) if problems else "invalid knowledge base"
        more = f" (and {len(problems) - 1} more problem(s); run 'painref validate')" if len(problems) > 1 else ""
        super().__init__(first + more, hint)
        self.problems = problems


class NotFound(PainrefError):
    """The query resolved to nothing confident: exit 1, with suggestions."""

    exit_code = 1

    def __init__(self, message: str, suggestions: list[str] | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.suggestions = suggestions or []
