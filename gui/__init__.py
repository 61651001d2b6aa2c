"""aaspi_py.gui: the Qt launcher and windows. All Qt imports go through ``aaspi_py.gui.qt``."""
