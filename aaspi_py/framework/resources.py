"""Memory a run will need, estimated from its parameters before any compute.

A parameter that sizes arrays (a GTM latent grid, a Kuwahara window, a number of trees)
can ask for more memory than the machine has; the run is refused at once with the
estimate, instead of failing (or swapping) minutes later.
"""

from __future__ import annotations

from aaspi_py.framework.errors import AaspiError


def available_bytes() -> int:
    """Memory available to a new allocation without swapping (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.3g} EiB"


def check_memory(needed: float, what: str, fix: str) -> None:
    """Refuse when ``needed`` bytes exceed the memory available now.

    Parameters
    ----------
    needed : estimated peak bytes
    what : the parameters that ask for it, e.g. "gtm3d with latent_grid 2000x2000"
    fix : what to change, e.g. "use a smaller latent_grid (20,20 is the default)"
    """
    have = available_bytes()
    if needed > have:
        raise AaspiError(f"{what} needs about {format_bytes(needed)} of memory but {format_bytes(have)} "
                         f"is available; {fix}.")
