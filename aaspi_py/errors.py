"""Errors a user can act on.

An :class:`AaspiError` carries one line that says what was wrong, where, and how to fix it.
The CLI prints that line and exits with status 2; ``--debug`` shows the traceback.
"""


class AaspiError(Exception):
    """A bad input (file, parameter, polygon): the message is one actionable line."""


class Cancelled(Exception):
    """Raised inside a run when the user asked it to stop; nothing half-written is kept."""
