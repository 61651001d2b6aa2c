"""The one place the GUI imports Qt: PyQt5 and pyqtgraph, re-exported.

Every other file of ``aaspi_py.gui`` (and the GUI tests) imports from here, so a switch of
binding or a global pyqtgraph option is a change in one file.
"""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PyQt5 import QtCore, QtGui, QtWidgets
from PyQt5.QtCore import QProcess, QProcessEnvironment, Qt, QTimer
from PyQt5.QtCore import pyqtSignal as Signal
from PyQt5.QtTest import QTest

# row-major: image arrays are (rows = y, columns = x), like numpy slices
pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

__all__ = ["QtCore", "QtGui", "QtWidgets", "Qt", "Signal", "QProcess", "QProcessEnvironment",
           "QTimer", "QTest", "pg", "application"]


def application() -> QtWidgets.QApplication:
    """The running QApplication, created on first use."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(sys.argv[:1])
        app.setApplicationName("aaspi-util")
    return app
