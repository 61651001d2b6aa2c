"""Facies polygons, rasterising them on slices, and training sets.

Imports the framework, io and aaspi_py.volume only.
"""
