"""Gaussian mixtures (EM, SEM, CEM; the nine covariance models) and Bhattacharyya distances.

Imports numpy/scipy/numba and the framework only.
"""
