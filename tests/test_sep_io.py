"""SEPlib .H files: round trips in both byte orders, history parsing, handwritten headers."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from segy_files import SEGY

from aaspi_py import AaspiError, open_volume, save_volume
from aaspi_py.io.segy import import_segy
from aaspi_py.io.sep import export_sep, import_sep, parse_history, read_header, read_sep, write_sep


@pytest.fixture
def f3(tmp_path):
    import_segy(SEGY / "f3.sgy", tmp_path / "f3.zarr")
    return open_volume(tmp_path / "f3.zarr")


@pytest.mark.parametrize("data_format, dtype", [("xdr_float", ">f4"), ("native_float", "<f4")])
def test_round_trip_both_byte_orders(tmp_path, f3, data_format, dtype):
    assert sys.byteorder == "little"  # native_float is little-endian on this machine
    h = tmp_path / "f3.H"
    report = export_sep(f3, h, data_format=data_format)
    values = f3["data"].values
    # the binary is the cube with n1 (samples) fastest, in the requested byte order
    assert (tmp_path / "f3.H@").read_bytes() == values.astype(dtype).tobytes()
    assert report["summary"] == [f"wrote f3.H (+ @ binary): n1=75 n2=18 n3=23, {data_format}"]
    data, header = read_sep(h)
    assert data.shape == (23, 18, 75) and data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(data, values)
    assert (header["o1"], header["d1"], header["o2"], header["d2"], header["o3"], header["d3"]) == (
        4.0, 4.0, 875.0, 1.0, 111.0, 1.0)
    assert header["label1"] == "Time (ms)" and header["label3"] == "Inline"
    import_sep(h, tmp_path / "back.zarr")
    back = open_volume(tmp_path / "back.zarr")
    np.testing.assert_array_equal(back["data"].values, values)
    for name in ("inline", "crossline", "sample"):
        np.testing.assert_array_equal(back[name].values, f3[name].values)
    assert back["sample"].attrs["units"] == "ms"


def test_history_last_key_wins():
    text = """
Sep_prog: Spike  /usr/local/bin/Spike   on host   at  Mon Jan 1
        n1=10 n2=5 n3=2  o1=0 d1=0.004
        label1="Time (s)"   # comment after a pair
# n1=999 a commented-out line
Window3d:  n1=8 f1=2
        n1=6 label2='Crossline number' esize=4
        in="/data/x.H@"
"""
    h = parse_history(text)
    assert h["n1"] == "6" and h["n2"] == "5" and h["f1"] == "2"
    assert h["label1"] == "Time (s)" and h["label2"] == "Crossline number"
    assert h["in"] == "/data/x.H@"


def test_handwritten_header(tmp_path):
    cube = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)  # (n3, n2, n1)
    cube[2, 3] = 0  # a dead trace
    (tmp_path / "hand.H@").write_bytes(cube.astype(">f4").tobytes())
    (tmp_path / "hand.H").write_text(
        "hand written\n"
        "  n1=7 n2=4 n3=3\n"  # n1 corrected below: the last one counts
        "  o1=0.1 d1=0.004 o2=100 d2=2 o3=10 d3=1\n"
        "  n1=5 data_format=xdr_float\n"
        "  in=hand.H@\n"  # relative: found next to the header
    )
    data, header = read_sep(tmp_path / "hand.H")
    np.testing.assert_array_equal(data, cube)
    assert header["esize"] == 4 and header["binary"] == str(tmp_path / "hand.H@")
    import_sep(tmp_path / "hand.H", tmp_path / "hand.zarr")
    vol = open_volume(tmp_path / "hand.zarr")
    np.testing.assert_array_equal(vol["inline"].values, [10, 11, 12])
    np.testing.assert_array_equal(vol["crossline"].values, [100, 102, 104, 106])
    # no label and d1 < 0.1: seconds, stored in ms
    np.testing.assert_allclose(vol["sample"].values, [100, 104, 108, 112, 116])
    np.testing.assert_array_equal(vol.iline[11], cube[1])
    assert vol["trace_mask"].values.sum() == 11 and not vol["trace_mask"].values[2, 3]


def test_binary_after_header_in_stdin(tmp_path):
    cube = np.linspace(-1, 1, 2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    (tmp_path / "inline.H").write_bytes(b"n1=4 n2=3 n3=2 in=stdin data_format=native_float\n\x0c\x0c\x04"
                                        + cube.astype("<f4").tobytes())
    data, _ = read_sep(tmp_path / "inline.H")
    np.testing.assert_array_equal(data, cube)


def test_moved_project_finds_binary_by_name(tmp_path, f3):
    (tmp_path / "a").mkdir()
    write_sep(tmp_path / "a" / "v.H", f3)
    (tmp_path / "a").rename(tmp_path / "b")
    data, header = read_sep(tmp_path / "b" / "v.H")
    assert header["binary"] == str(tmp_path / "b" / "v.H@")
    np.testing.assert_array_equal(data, f3["data"].values)


def test_write_numpy_with_explicit_axes(tmp_path):
    cube = np.ones((2, 2, 3), np.float32)
    write_sep(tmp_path / "c.H", cube, o=(0.0, 1.0, 5.0), d=(2.0, 1.0, 1.0), label=("Depth (m)", "x", "y"))
    h = read_header(tmp_path / "c.H")
    assert (h["n1"], h["n2"], h["n3"], h["o3"], h["d1"], h["label1"]) == (3, 2, 2, 5.0, 2.0, "Depth (m)")
    import_sep(tmp_path / "c.H", tmp_path / "c.zarr")
    assert open_volume(tmp_path / "c.zarr")["sample"].attrs == {"domain": "depth", "units": "m"}
    with pytest.raises(AaspiError, match="already exists"):
        write_sep(tmp_path / "c.H", cube)


def test_errors(tmp_path):
    (tmp_path / "nobin.H").write_text("n1=2 n2=2 n3=2 in=/nowhere/x.H@\n")
    with pytest.raises(AaspiError) as e:
        read_sep(tmp_path / "nobin.H")
    assert str(e.value) == (f"{tmp_path / 'nobin.H'}: the binary data in=/nowhere/x.H@ does not exist (nor next "
                            f"to the header); copy the .H@ file beside the .H or fix the in= line.")
    (tmp_path / "short.H@").write_bytes(b"\0" * 20)
    (tmp_path / "short.H").write_text("n1=2 n2=2 n3=2 in=short.H@\n")
    with pytest.raises(AaspiError, match=r"has 20 bytes but n1\*n2\*n3\*esize = 32; it is truncated"):
        read_sep(tmp_path / "short.H")
    (tmp_path / "c8.H").write_text("n1=2 esize=8 data_format=xdr_complex in=short.H@\n")
    with pytest.raises(AaspiError, match="data_format=xdr_complex with esize=8 is not supported"):
        read_sep(tmp_path / "c8.H")
    (tmp_path / "4d.H").write_text("n1=2 n4=3 in=short.H@\n")
    with pytest.raises(AaspiError, match="n4=3 — only 3D data"):
        read_sep(tmp_path / "4d.H")


def test_modules_take_H_files(project, tmp_path):
    from aaspi_py import run

    cube = np.random.default_rng(0).standard_normal((3, 4, 6)).astype(np.float32)
    save_volume(cube, tmp_path / "syn.zarr", sample=np.arange(6) * 2.0)
    export_sep(tmp_path / "syn.zarr", tmp_path / "syn.H")
    res = run("segy_import", project, src=str(tmp_path / "syn.H"), volume="syn")
    vol = open_volume(res.outputs["syn"])
    np.testing.assert_array_equal(vol["data"].values, cube)
    assert res.report["summary"][0].startswith("imported syn.H: 3 inlines x 4 crosslines x 6 samples")
    res = run("segy_export", project, volume="syn", dst="results/syn_out.H")
    data, _ = read_sep(project.root / "results" / "syn_out.H")
    np.testing.assert_array_equal(data, cube)
    assert (project.root / "results" / "syn_out.H@").is_file()
