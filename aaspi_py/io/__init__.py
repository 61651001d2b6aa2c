"""Reading and writing SEG-Y and SEPlib files to and from volumes.

Imports the framework and aaspi_py.volume only.
"""
