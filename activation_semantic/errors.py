"""One error root: library code raises, only the CLI turns errors into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1
    ERROR = 2


@dataclass(frozen=True)
class Finding:
    """One problem located in a file; `path` is the dotted location inside the document."""

    file: str
    line: int | None
    col: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ActivationError(Exception):
    """Root of every error the tool reports; `exit_code` says how the CLI ends."""

    exit_code: Exit = Exit.ERROR

    def __init__(self, message: str, findings: tuple[Finding, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.findings = findings


class InputError(ActivationError):
    """Unreadable input: missing file, not UTF-8, not YAML, wrong top-level shape, too large."""

    exit_code = Exit.ERROR


class UsageError(ActivationError):
    """The command line asks for something impossible."""

    exit_code = Exit.ERROR


class DefinitionInvalid(ActivationError):
    """A readable definition whose content breaks the contract; carries every finding at once."""

    exit_code = Exit.FINDINGS

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        super().__init__("\n".join(str(f) for f in findings), findings)


class FixtureInvalid(ActivationError):
    """A fixture that cannot be run: missing tables, unknown members, bad rows."""

    exit_code = Exit.ERROR


class CheckFailed(ActivationError):
    """A check ran and found problems (drift, hand edits, compile errors)."""

    exit_code = Exit.FINDINGS
