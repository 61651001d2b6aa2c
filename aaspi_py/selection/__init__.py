"""Attribute selection with Gaussian mixtures, and its report.

Imports mixture, training and the framework.
"""
