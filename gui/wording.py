"""Messages of the library in the words of the GUI.

The library's messages name the fix for a command line (``--set name=...``,
``--overwrite``, ``aaspi import-segy``); in a window the same fix is a field, a check box
or a module button, so the windows pass every message through :func:`gui_message`.
"""

from __future__ import annotations

import re

_RULES = (
    (re.compile(r"pass --overwrite(?: \(overwrite=True\))?"), "tick Overwrite existing outputs"),
    (re.compile(r"set it with --set [\w]+=\.\.\. or in the parameter file"), "fill in that field"),
    (re.compile(r"--set (\w+)=\S*"), r"the '\1' field"),
    (re.compile(r"--overwrite"), "Overwrite existing outputs"),
    (re.compile(r"(?:with )?`aaspi import-segy`"), "with segy_import (Utilities tab)"),
    (re.compile(r" \(`aaspi params \w+` prints them with their help\)"), ""),
)


def gui_message(text: str) -> str:
    """``… already exists; pass --overwrite …`` → ``… already exists; tick Overwrite existing outputs …``."""
    for pattern, words in _RULES:
        text = pattern.sub(words, text)
    return text
