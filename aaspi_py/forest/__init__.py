"""Random forests: training, the saved model, the prediction kernel, rfc3d steps and report.

Imports training, the framework and aaspi_py.volume.
"""
