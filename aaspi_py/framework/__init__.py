"""The module framework: parameter declarations, registry, runner, scheduler, progress, project, errors.

Bottom layer, with aaspi_py.volume: imports nothing else of aaspi_py.
"""
