"""Image-processing filters of volumes: the adaptive 3D Kuwahara filter and its numba kernels.

Imports the framework only.
"""
