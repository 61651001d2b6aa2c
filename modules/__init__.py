"""Built-in aaspi_py modules. Each file declares one module's parameters and its ``run``.

They register through the ``aaspi_py.modules`` entry-point group, like third-party modules.
Keep top-level imports light: the launcher imports every module file to list them.
"""
