"""Typed errors, each with the process exit code the CLI maps it to.

Every failure a user can cause or meet is one of these; anything else is a bug and exits 1.
The exit codes are part of the documented, stable interface (see README "Exit codes").
"""

from __future__ import annotations

from typing import Any


class ExitCode:
    OK = 0
    ERROR = 1  # unexpected internal error (a bug)
    USAGE = 2  # bad flags, invalid values, malformed input
    NOT_FOUND = 3  # issue, label, milestone, backend ... does not exist
    CONFLICT = 4  # concurrent edit, duplicate name, lost race
    AUTH = 5  # missing/invalid credentials or no permission
    UNAVAILABLE = 6  # backend unreachable, timed out, rate-limited, store busy
    UNSUPPORTED = 7  # the backend cannot do this (missing capability)
    STORE = 8  # the store is corrupt, read-only or from a newer version
    OUTPUT = 9  # the output could not be printed; any change the command made WAS committed
    CLAIMED = 10  # the issue is claimed by another agent whose lease is live (or yours ran out)
    TIMED_OUT = (
        124  # a wait ran out with nothing seen (`issue watch --until-change`), as timeout(1)
    )


class IssueCoreError(Exception):
    """Base class. ``code`` is a stable machine-readable name used in JSON error objects."""

    code = "error"
    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "exit_code": self.exit_code,
        }
        if self.hint:
            data["hint"] = self.hint
        if self.details:
            data["details"] = self.details
        return data

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())


class UsageError(IssueCoreError):
    code = "usage"
    exit_code = ExitCode.USAGE


class ValidationError(UsageError):
    """Input that is well-formed but not acceptable (empty title, unknown state ...)."""

    code = "invalid"


class NotFound(IssueCoreError):
    code = "not_found"
    exit_code = ExitCode.NOT_FOUND


class Conflict(IssueCoreError):
    code = "conflict"
    exit_code = ExitCode.CONFLICT


class ClaimConflict(Conflict):
    """Another agent holds a live lease on the issue (``details``: holder, expires_at), or the
    caller's own lease is gone (expired, released, forced away). Exit 10, distinct from a plain
    conflict, so a worker can tell "someone has it" from "re-read and retry"."""

    code = "claimed"
    exit_code = ExitCode.CLAIMED


class AuthError(IssueCoreError):
    code = "auth"
    exit_code = ExitCode.AUTH


class PermissionDenied(AuthError):
    code = "permission_denied"


class BackendUnavailable(IssueCoreError):
    code = "unavailable"
    exit_code = ExitCode.UNAVAILABLE


class RateLimited(BackendUnavailable):
    code = "rate_limited"


class TimedOut(IssueCoreError):
    """A wait with a deadline (``issue watch --until-change --timeout``) saw nothing."""

    code = "timed_out"
    exit_code = ExitCode.TIMED_OUT


class Unsupported(IssueCoreError):
    code = "unsupported"
    exit_code = ExitCode.UNSUPPORTED


class StoreError(IssueCoreError):
    """The store cannot be used as it is: corrupt, read-only, or written by a newer version."""

    code = "store"
    exit_code = ExitCode.STORE


class IncompatibleStore(StoreError):
    code = "incompatible_store"


class StoreReadOnly(StoreError):
    """A write to a store on a read-only filesystem or without write permission (reads work)."""

    code = "store_read_only"


class StoreFull(StoreError):
    """The disk (or quota) holding the store is full: the write was rolled back whole."""

    code = "store_full"


class NotAStore(StoreError):
    """The file is an SQLite database of some other program: never adopted or written."""

    code = "not_a_store"


class OutputFailed(IssueCoreError):
    """Printing the result failed (stdout closed or full, ``--jq`` failing on a write's result).

    The command's work is done: a write it made is committed, so repeating it would write twice.
    """

    code = "output_failed"
    exit_code = ExitCode.OUTPUT


class ConfigError(UsageError):
    code = "config"


def as_usage_error(error: BaseException) -> UsageError | None:
    """Input mistakes that surface below a front end's own checks, as the usage errors they are.

    Front ends bound what they parse; these catch a value that reached a store or encoder by
    another way (a new option, an environment variable, a config value, a tool argument). The
    CLI and the MCP server both map errors through here, so they say the same thing.
    """
    if isinstance(error, OverflowError):  # SQLite holds integers up to 2^63-1
        return UsageError(f"a number is too large: {error}", hint="numbers go up to 2^63-1")
    if isinstance(error, UnicodeEncodeError) and "surrogates" in str(error.reason):
        # Undecodable bytes Python carried in as lone surrogates (from argv, env, a file name).
        return UsageError(
            "input is not valid UTF-8 text", hint="give text, names and values as UTF-8"
        )
    return None


class InternalError(IssueCoreError):
    """An error no front end expected: a bug, reported by its type and message alone."""

    code = "internal"


def internal_error(error: BaseException, *, debug: bool = False) -> InternalError:
    """``error`` (not an ``IssueCoreError``) as the one-line internal error front ends report."""
    detail = " ".join(f"{type(error).__name__}: {error}".split())
    hint = None if debug else "rerun with --debug for the traceback"
    return InternalError(f"internal error: {detail}", hint=hint)


def as_issue_core_error(error: BaseException) -> IssueCoreError:
    """Any exception as the typed error a front end reports: itself, a usage error it stands
    for (``as_usage_error``), else an internal error."""
    if isinstance(error, IssueCoreError):
        return error
    return as_usage_error(error) or internal_error(error)
