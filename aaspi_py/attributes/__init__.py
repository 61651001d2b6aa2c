"""Volumetric attributes computed from an amplitude volume (SPEC 3.7), one file per family.

May import numpy, scipy, scikit-image, numba and dask; never the framework, modules or Qt.
"""
