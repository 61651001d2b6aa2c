"""Depth data: `import-segy --domain depth` labels the sample axis m/depth; info, attributes
and SEG-Y export honour it."""

import numpy as np
import pytest
from aaspi_py.sample_volumes import F3_PATH

from aaspi_py import import_segy
from aaspi_py.cli import main
from aaspi_py.framework.errors import AaspiError
from aaspi_py.volume import open_volume

segyio = pytest.importorskip("segyio")


def test_cli_imports_depth_data_and_everything_downstream_says_metres(tmp_path, capsys):
    root = tmp_path / "depth"
    assert main(["new-project", str(root)]) == 0
    assert main(["import-segy", str(F3_PATH), "-p", str(root), "--domain", "depth"]) == 0
    out = capsys.readouterr().out
    assert "4 m" in out and " ms" not in out
    ds = open_volume(root / "volumes" / "f3.zarr")
    assert ds["sample"].attrs["domain"] == "depth" and ds["sample"].attrs["units"] == "m"
    assert main(["info", "f3", "-p", str(root)]) == 0
    assert "m step 4 (depth)" in capsys.readouterr().out
    assert main(["run", "attributes", "-p", str(root), "--set", "volume=f3",
                 "--set", "attributes=instantaneous_frequency"]) == 0
    freq = open_volume(root / "volumes" / "attributes_instantaneous_frequency_depth.zarr")
    assert freq.attrs["units"] == "cycles/km" and freq["sample"].attrs["units"] == "m"
    # the same numbers as in time: a 4 m interval gives cycles/km where 4 ms gives Hz
    time_freq = __import__("aaspi_py").attributes.compute(
        ds["data"].values, ["instantaneous_frequency"], sample_interval=4.0, mask=ds["trace_mask"].values)
    np.testing.assert_allclose(freq["data"].values, time_freq["instantaneous_frequency"], rtol=1e-5, atol=1e-4)
    # export writes the file back: same samples, same interval field
    assert main(["export-segy", "f3", str(root / "results" / "out.sgy"), "-p", str(root)]) == 0
    with segyio.open(F3_PATH) as a, segyio.open(root / "results" / "out.sgy") as b:
        np.testing.assert_array_equal(segyio.tools.cube(a), segyio.tools.cube(b))
        assert segyio.tools.dt(a) == segyio.tools.dt(b)


def test_time_is_the_default_and_a_bad_domain_is_refused(tmp_path):
    import_segy(F3_PATH, tmp_path / "t.zarr")
    assert open_volume(tmp_path / "t.zarr")["sample"].attrs["units"] == "ms"
    with pytest.raises(AaspiError, match="Unknown sample domain 'elevation'; use 'time' \\(ms\\) or 'depth' \\(m\\)"):
        import_segy(F3_PATH, tmp_path / "d.zarr", domain="elevation")
