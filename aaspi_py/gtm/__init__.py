"""Generative Topographic Mapping: the estimator, volume mapping and plots.

Imports the framework, training and aaspi_py.volume only.
"""
