"""Sample survey: the real F3 cut and a deterministic synthetic survey generator."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
F3_PATH = HERE / "f3.sgy"
