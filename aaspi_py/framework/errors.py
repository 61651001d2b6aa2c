"""Errors a user can act on.

An :class:`AaspiError` carries one line that says what was wrong, where, and how to fix it.
The CLI prints that line and exits with status 2; ``--debug`` shows the traceback.
"""


class AaspiError(Exception):
    """A bad input (file, parameter, polygon): the message is one actionable line."""


class Cancelled(Exception):
    """Raised inside a run when the user asked it to stop; nothing half-written is kept."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C (temporary outputs removed, run recorded)."""


def os_error_line(e: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, what to do."""
    import errno

    where = f": {e.filename}" if getattr(e, "filename", None) else ""
    why = e.strerror or str(e) or type(e).__name__
    fix = {
        errno.EACCES: "check the folder's permissions (is the project read-only?)",
        errno.EPERM: "check the folder's permissions and attributes (is the project read-only or immutable?)",
        errno.EROFS: "the file system is mounted read-only; copy the project to a writable disk",
        errno.ENOSPC: "free space on that disk (or move the project); nothing half-written was kept",
        errno.EDQUOT: "your disk quota is used up; free space or move the project",
        errno.ENOENT: "check the path",
        errno.EISDIR: "give a file name, not a folder",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EMFILE: "too many open files; raise the limit (ulimit -n)",
    }.get(e.errno, "check the path and the disk")
    return f"{why}{where}; {fix}."
