"""One exception hierarchy; shells turn it into exit code 2, HTTP 4xx or a dashboard message."""

from __future__ import annotations

from pathlib import Path


class SegwiseError(Exception):
    """Base of every error segwise raises on purpose (bad input, bad settings, missing data)."""


class InputError(SegwiseError):
    """Bad input, located: which file, row and column, and how to fix it.

    ``str(error)`` is one line: ``what (file, row N, column C); hint``.
    ``row`` counts data rows from 1 (the header is not a row).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(Path(self.file).name)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = self.message
        if where:
            text += f" ({', '.join(where)})"
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split())  # always one line


class ConfigError(SegwiseError):
    """A setting or option has a value segwise cannot use."""


class NotFoundError(SegwiseError):
    """A dataset, run, model or customer that was asked for does not exist."""


class NotDoneError(InputError):
    """A run's results were asked for while it is queued, running or failed."""


class FitError(InputError):
    """A model cannot be fitted to the data given: too little of it, or no optimum found."""


class NotAllowedError(SegwiseError):
    """The one acting lacks the role an action needs (HTTP 403)."""


class SignInError(SegwiseError):
    """A sign-in or API key was refused: unknown, wrong, disabled or rate-limited (HTTP 401)."""
