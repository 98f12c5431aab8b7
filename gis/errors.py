"""User-facing errors: the CLI prints them without a traceback and exits non-zero."""


class SPPError(Exception):
    """An error a user can act on; the message names the input and the fix."""

    exit_code = 1


class SetupError(SPPError):
    """Missing system packages or a database that cannot be reached."""

    exit_code = 3
