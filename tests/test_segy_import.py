"""SEG-Y import: values equal to segyio's, geometry, odd files refused with one exact line."""

from __future__ import annotations

import numpy as np
import pytest
import segyio
from module_contract import ModuleContract
from segy_files import (
    IMPORTABLE,
    REGULAR,
    SEGY,
    endian_of,
    long_traces,
    patched_binary,
    records,
    renumbered_small,
    segyio_traces,
    set_field,
    shuffled_small,
    write,
)

from aaspi_py import AaspiError, Cancelled, Progress, open_volume
from aaspi_py.io.segy import import_segy


def _import(tmp_path, name, **kw):
    dst = tmp_path / (name.replace("/", "_") + ("_" + "_".join(map(str, kw.values())) if kw else "") + ".zarr")
    report = import_segy(SEGY / name, dst, **kw)
    return open_volume(dst), report


# ---------------------------------------------------------------- values and geometry

@pytest.mark.parametrize("name", IMPORTABLE)
def test_values_equal_segyio(tmp_path, name):
    ds, report = _import(tmp_path, name)
    traces, samples = segyio_traces(SEGY / name)
    order = ds["trace_order"].values
    has = order >= 0
    assert has.sum() == len(traces) == report["traces"]
    np.testing.assert_array_equal(ds["data"].values[has], traces[order[has]])
    np.testing.assert_allclose(ds["sample"].values, samples, rtol=0, atol=1e-9)
    assert report["endian"] == endian_of(SEGY / name)
    # a trace is live when it exists and is not all zeros
    live = np.zeros(order.shape, bool)
    live[has] = np.any(traces[order[has]] != 0, axis=1)
    np.testing.assert_array_equal(ds["trace_mask"].values, live)
    assert ds["data"].values[~has].sum() == 0


@pytest.mark.parametrize("name", REGULAR)
def test_regular_cube_equals_segyio_cube(tmp_path, name):
    ds, _ = _import(tmp_path, name)
    with segyio.open(SEGY / name, endian=endian_of(SEGY / name)) as f:
        cube = segyio.tools.cube(f).astype(np.float32)
        np.testing.assert_array_equal(ds["inline"].values, f.ilines)
        np.testing.assert_array_equal(ds["crossline"].values, f.xlines)
        np.testing.assert_array_equal(ds.iline[f.ilines[1]], cube[1])
        np.testing.assert_array_equal(ds.xline[f.xlines[-1]], cube[:, -1])
    np.testing.assert_array_equal(ds["data"].values, cube)


def test_attributes_keep_the_headers(tmp_path):
    ds, report = _import(tmp_path, "f3.sgy")
    import base64

    raw = (SEGY / "f3.sgy").read_bytes()
    assert base64.b64decode(ds.attrs["segy_textual_header"]) == raw[:3200]
    assert base64.b64decode(ds.attrs["segy_binary_header"]) == raw[3200:3600]
    assert ds.attrs["segy_bytes"] == {"iline": 189, "xline": 193, "cdp_x": 181, "cdp_y": 185}
    assert ds.attrs["segy_format"] == 3 and ds.attrs["segy_endian"] == "big"
    assert ds.attrs["kind"] == "amplitude"
    assert ds["trace_header"].dims == ("inline", "crossline", "header_byte")
    assert (ds["data"].dtype, ds["trace_header"].dtype, ds["trace_mask"].dtype, ds["trace_order"].dtype) == (
        np.float32, np.uint8, bool, np.int32)
    with segyio.open(SEGY / "f3.sgy") as f:
        assert bytes(ds["trace_header"].values[0, 0]) == bytes(f.header[0].buf)
        assert bytes(ds["trace_header"].values[-1, -1]) == bytes(f.header[f.tracecount - 1].buf)
    assert report["shape"] == [23, 18, 75]
    assert report["summary"][0].startswith("imported f3.sgy: 23 inlines (111..133) x 18 crosslines (875..892)")


def test_little_endian_equals_big_endian(tmp_path):
    big, _ = _import(tmp_path, "small.sgy")
    little, report = _import(tmp_path, "small-lsb.sgy")
    assert report["endian"] == "little"
    np.testing.assert_array_equal(big["data"].values, little["data"].values)


@pytest.mark.parametrize("fmt", ["1msb", "1lsb", "2msb", "5msb", "5lsb"])
def test_sample_formats_decode_to_f3(tmp_path, fmt):
    f3, _ = _import(tmp_path, "f3.sgy")
    other, _ = _import(tmp_path, f"multiformats/Format{fmt}.sgy")
    np.testing.assert_array_equal(other["data"].values, f3["data"].values)


def test_one_byte_formats_are_wrapped_int16(tmp_path):
    f3, _ = _import(tmp_path, "f3.sgy")
    values = f3["data"].values.astype(np.int64)
    s8, _ = _import(tmp_path, "multiformats/Format8msb.sgy")
    u8, _ = _import(tmp_path, "multiformats/Format16msb.sgy")
    np.testing.assert_array_equal(s8["data"].values, values.astype(np.int8))
    np.testing.assert_array_equal(u8["data"].values, values.astype(np.uint8))


def test_hole_is_masked(tmp_path):
    ds, report = _import(tmp_path, "zfp-small_hole.sgy")
    assert ds["data"].shape == (5, 5, 50)
    assert int(ds["trace_mask"].values.sum()) == 24 and report["missing"] == 1
    i, j = np.argwhere(~ds["trace_mask"].values)[0]
    assert ds["trace_order"].values[i, j] == -1
    assert not ds["data"].values[i, j].any()
    # the hole's coordinates come from the affine fit, not NaN
    assert np.isfinite(ds["cdp_x"].values).all()


def test_unsorted_traces_land_on_the_grid(tmp_path):
    path, perm = shuffled_small(tmp_path)
    ref, _ = _import(tmp_path, "small.sgy")
    report = import_segy(path, tmp_path / "shuffled.zarr")
    ds = open_volume(tmp_path / "shuffled.zarr")
    assert report["sorting"] == "unsorted"
    np.testing.assert_array_equal(ds["data"].values, ref["data"].values)
    # trace_order says where each grid trace sits in the shuffled file
    np.testing.assert_array_equal(perm[ds["trace_order"].values.ravel()], np.arange(25))


def test_crossline_sorted_file(tmp_path):
    head, recs, _ = records(SEGY / "small.sgy")
    order = np.arange(25).reshape(5, 5).T.ravel()
    path = write(tmp_path / "small-xl.sgy", head, recs[order])
    report = import_segy(path, tmp_path / "xl.zarr")
    ref, _ = _import(tmp_path, "small.sgy")
    assert report["sorting"] == "crossline"
    np.testing.assert_array_equal(open_volume(tmp_path / "xl.zarr")["data"].values, ref["data"].values)


def test_reversed_negative_decimated_line_numbers(tmp_path):
    path = renumbered_small(tmp_path)
    import_segy(path, tmp_path / "renum.zarr")
    ds = open_volume(tmp_path / "renum.zarr")
    np.testing.assert_array_equal(ds["inline"].values, [-2, -4, -6, -8, -10])
    np.testing.assert_array_equal(ds["crossline"].values, [30, 27, 24, 21, 18])
    traces, _ = segyio_traces(path)
    np.testing.assert_array_equal(ds["data"].values.reshape(25, -1), traces)
    np.testing.assert_array_equal(ds.iline[-6], traces[10:15])


def test_decimated_lines_with_a_missing_line(tmp_path):
    head, recs, _ = records(SEGY / "small.sgy")
    k = np.arange(25)
    set_field(recs, 189, 100 + 4 * (k // 5) + 4 * (k // 15))  # 100 104 108 | 116 120: 112 missing
    path = write(tmp_path / "gap.sgy", head, recs)
    report = import_segy(path, tmp_path / "gap.zarr")
    ds = open_volume(tmp_path / "gap.zarr")
    np.testing.assert_array_equal(ds["inline"].values, [100, 104, 108, 112, 116, 120])
    assert not ds["trace_mask"].values[3].any() and report["missing"] == 5


def test_dead_traces_are_masked(tmp_path):
    head, recs, _ = records(SEGY / "small.sgy")
    recs[7, 240:] = 0
    path = write(tmp_path / "dead.sgy", head, recs)
    report = import_segy(path, tmp_path / "dead.zarr")
    ds = open_volume(tmp_path / "dead.zarr")
    assert report["dead"] == 1 and report["live"] == 24
    assert not ds["trace_mask"].values[1, 2] and ds["trace_order"].values[1, 2] == 7


def test_coordinate_scalar_applied(tmp_path):
    head, recs, _ = records(SEGY / "small.sgy")
    k = np.arange(25)
    set_field(recs, 181, 6_000_000_00 + 2500 * (k // 5))
    set_field(recs, 185, 7_000_000_00 + 1250 * (k % 5))
    set_field(recs, 71, -100, size=2)
    path = write(tmp_path / "xy.sgy", head, recs)
    import_segy(path, tmp_path / "xy.zarr")
    ds = open_volume(tmp_path / "xy.zarr")
    assert ds["cdp_x"].values[2, 3] == pytest.approx(6_000_000 + 50.0)
    assert ds["cdp_y"].values[2, 3] == pytest.approx(7_000_000 + 37.5)
    # a hole gets the coordinates of the plane through the others
    import_segy(write(tmp_path / "xy-hole.sgy", head, np.delete(recs, 12, axis=0)), tmp_path / "xy-hole.zarr")
    hole = open_volume(tmp_path / "xy-hole.zarr")
    assert not hole["trace_mask"].values[2, 2]
    assert hole["cdp_x"].values[2, 2] == pytest.approx(6_000_050.0)
    assert hole["cdp_y"].values[2, 2] == pytest.approx(7_000_025.0)
    set_field(recs, 71, 10, size=2)
    import_segy(write(tmp_path / "xy10.sgy", head, recs), tmp_path / "xy10.zarr")
    assert open_volume(tmp_path / "xy10.zarr")["cdp_x"].values[0, 0] == 6_000_000_000


def test_2d_line(tmp_path):
    ds, report = _import(tmp_path, "zfp-small-2d.sgy")
    assert ds["data"].shape == (1, 25, 50)
    np.testing.assert_array_equal(ds["crossline"].values, np.arange(1, 26))
    assert ds["cdp_x"].values[0, 1] == 56128200
    assert any("imported as a 2D line of 25 traces" in line for line in report["summary"])


def test_negative_first_sample(tmp_path):
    ds, _ = _import(tmp_path, "zfp-small-negative-samples.sgy")
    np.testing.assert_allclose(ds["sample"].values[:3], [-1.0, 3.994, 8.988])


def test_traces_longer_than_32767_samples(tmp_path):
    path = long_traces(tmp_path)
    report = import_segy(path, tmp_path / "long.zarr")
    ds = open_volume(tmp_path / "long.zarr")
    assert ds["data"].shape == (1, 2, 40000) and report["shape"] == [1, 2, 40000]
    traces, _ = segyio_traces(path)
    np.testing.assert_array_equal(ds["data"].values[0], traces)


def test_without_trace_headers(tmp_path):
    ds, _ = _import(tmp_path, "small.sgy", keep_headers=False)
    assert "trace_header" not in ds and "trace_order" not in ds
    assert "segy_binary_header" in ds.attrs


def test_chunks_option(tmp_path):
    ds, report = _import(tmp_path, "f3.sgy", chunks=(8, 8, 32))
    assert ds["data"].encoding["chunks"] == (8, 8, 32)
    ref, _ = _import(tmp_path, "f3.sgy")
    np.testing.assert_array_equal(ds["data"].values, ref["data"].values)


# ---------------------------------------------------------------- refusals: one exact line each

def _error(path, **kw) -> str:
    with pytest.raises(AaspiError) as e:
        import_segy(path, path.parent / "out.zarr" if path.parent != SEGY else "/nonexistent/out.zarr", **kw)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_truncated_file():
    p = SEGY / "broken.sgy"
    assert _error(p) == (
        f"{p}: 836 bytes of traces after the 10000 bytes of headers is not a whole number of 256-byte "
        f"traces (240-byte header + 4 samples of 4-byte IBM float); the file is truncated or its traces "
        f"differ in length — copy or export it again."
    )


def test_file_without_traces():
    p = SEGY / "text.sgy"
    assert _error(p) == (
        f"{p}: no traces — the file holds only its headers (3600 bytes); there is no seismic data to import."
    )


@pytest.mark.parametrize("name, per_position, offsets", [("small-ps.sgy", 2, "1, 2"), ("1xN.sgy", 4, "0, 1, 2, 3")])
def test_prestack_files(name, per_position, offsets):
    p = SEGY / name
    assert _error(p) == (
        f"{p}: prestack data: {per_position} traces at each inline/crossline position with offsets {offsets} "
        f"(byte 37); aaspi_py imports post-stack volumes — stack the gathers or extract one offset (one trace "
        f"per position) and import that."
    )


def test_shot_gathers():
    p = SEGY / "shot-gather.sgy"
    assert _error(p) == (
        f"{p}: shot gathers, not a 3D volume: all 61 traces have inline 0 and crossline 0 (bytes 189/193) and "
        f"come from field records 2, 3, 5, 8 (byte 9); aaspi_py imports post-stack volumes sorted by "
        f"inline/crossline — stack and bin the gathers first, or give the bytes that hold the line numbers "
        f"(--iline/--xline)."
    )


def test_long_sgy_has_no_line_numbers():
    p = SEGY / "long.sgy"
    assert _error(p) == (
        f"{p}: the numbers at trace header bytes 189/193 do not form a survey grid: 3 traces would spread "
        f"over 1082137948 x 1082138018 inline/crossline positions (inlines 0..1082137947, crosslines "
        f"0..1082138017); the trace headers hold no usable line numbers there — give the right bytes "
        f"(--iline/--xline) or fix the headers."
    )


@pytest.mark.parametrize("code, name", [(4, "4-byte fixed point with gain"), (7, "3-byte signed integer"),
                                        (15, "3-byte unsigned integer")])
def test_formats_segyio_misreads_are_refused(tmp_path, code, name):
    p = patched_binary(SEGY / "small.sgy", tmp_path / f"fmt{code}.sgy", 24, code)
    assert _error(p) == (
        f"{p}: sample format {code} ({name}) is not supported (segyio misreads it, so it cannot be "
        f"verified); convert the file to format 1 (IBM) or 5 (IEEE float) and import that."
    )


def test_unknown_format_code(tmp_path):
    p = patched_binary(SEGY / "small.sgy", tmp_path / "fmt0.sgy", 24, 0)
    assert _error(p) == (
        f"{p}: binary header bytes 3225-3226 hold no SEG-Y sample format code in either byte order "
        f"(0 big-endian, 0 little-endian); the file is not SEG-Y or its binary header is damaged — fix the "
        f"format code (1 IBM float, 5 IEEE float, ...) in the header."
    )


def test_not_segy(tmp_path):
    p = tmp_path / "notes.sgy"
    p.write_text("hello")
    assert _error(p) == (
        f"{p}: only 5 bytes, shorter than the 3600-byte SEG-Y textual and binary headers; it is not a "
        f"SEG-Y file (or it was cut short)."
    )
    missing = tmp_path / "missing.sgy"
    assert _error(missing) == f"{missing}: no such SEG-Y file; check the path."


def test_duplicate_positions(tmp_path):
    head, recs, _ = records(SEGY / "small.sgy")
    set_field(recs, 193, 20)  # every inline's traces at crossline 20
    p = write(tmp_path / "dups.sgy", head, recs)
    assert _error(p) == (
        f"{p}: 20 traces repeat an inline/crossline position already taken (e.g. inline 1, crossline 20 at "
        f"traces 1, 2, 3); check the line number bytes (--iline 189 --xline 193) or remove the duplicate traces."
    )


def test_bad_byte_location():
    with pytest.raises(AaspiError, match="Trace header byte 190 given for the inline number is not the first "
                                         "byte of a SEG-Y trace header field; use a field start such as 189 or 193"):
        import_segy(SEGY / "small.sgy", "/nonexistent/x.zarr", iline=190)


def test_existing_output_needs_overwrite(tmp_path):
    dst = tmp_path / "v.zarr"
    import_segy(SEGY / "small.sgy", dst)
    with pytest.raises(AaspiError, match="already exists; pass --overwrite"):
        import_segy(SEGY / "small.sgy", dst)
    import_segy(SEGY / "f3.sgy", dst, overwrite=True)
    assert open_volume(dst)["data"].shape == (23, 18, 75)


def test_cancel_leaves_nothing(tmp_path):
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        import_segy(SEGY / "f3.sgy", tmp_path / "v.zarr", progress=progress)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- module and CLI

def test_module_run(project):
    from aaspi_py import run

    res = run("segy_import", project, src=str(SEGY / "small.sgy"), volume="small")
    ds = open_volume(res.outputs["small"])
    assert ds["data"].shape == (5, 5, 50)
    assert res.report["summary"][0].startswith("imported small.sgy: 5 inlines (1..5) x 5 crosslines (20..24)")
    assert res.report["live"] == 25


def test_cli_bad_file_exit_2_one_line(tmp_path, capsys):
    from aaspi_py.cli.commands import main

    p = SEGY / "text.sgy"
    assert main(["new-project", str(tmp_path / "proj")]) == 0
    capsys.readouterr()
    code = main(["import-segy", str(p), "--project", str(tmp_path / "proj")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (f"aaspi: error: {p}: no traces — the file holds only its headers (3600 bytes); there is no "
                   f"seismic data to import.")
    assert list((tmp_path / "proj" / "volumes").iterdir()) == []


def test_cli_import(tmp_path, capsys):
    from aaspi_py.cli.commands import main

    assert main(["new-project", str(tmp_path / "proj")]) == 0
    code = main(["import-segy", str(SEGY / "f3.sgy"), "amp", "--project", str(tmp_path / "proj")])
    out = capsys.readouterr().out
    assert code == 0 and "imported f3.sgy: 23 inlines" in out
    assert open_volume(tmp_path / "proj" / "volumes" / "amp.zarr")["data"].shape == (23, 18, 75)


class TestSegyImportContract(ModuleContract):
    module_id = "segy_import"

    def setup_project(self, project):
        return {"src": str(SEGY / "small.sgy"), "volume": "small"}


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    """A 0.85 GB SEG-Y imports in a subprocess whose peak RSS stays well under the file size."""
    import importlib.util
    import json
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[1] / "benches" / "segy_ingest.py"
    monkeypatch.syspath_prepend(str(bench.parent))  # the script imports its sibling _memory.py
    spec = importlib.util.spec_from_file_location("segy_ingest", bench)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "big.sgy"
    module.write_segy(path, 240, 250, 3500)
    proc = subprocess.run([sys.executable, str(bench), "--step", "import", "--file", str(path),
                           "--out", str(tmp_path / "big.zarr")], capture_output=True, text=True, check=True)
    peak = json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss"]
    assert path.stat().st_size > 800e6
    assert peak < 600e6
    ds = open_volume(tmp_path / "big.zarr")
    with segyio.open(path) as f:
        np.testing.assert_array_equal(ds.iline[120], f.iline[120])


def test_layout_details(tmp_path):
    """Byte order from the rev 2 constant, sample count from the trace header, interval choice."""
    from aaspi_py.io.segy_layout import read_layout

    raw = bytearray((SEGY / "small-lsb.sgy").read_bytes())
    raw[3200 + 96: 3200 + 100] = (0x01020304).to_bytes(4, "little")
    raw[3200 + 20: 3200 + 22] = bytes(2)  # no sample count in the binary header: the trace header has it
    raw[3600 + 114: 3600 + 116] = (50).to_bytes(2, "little")
    (tmp_path / "a.sgy").write_bytes(bytes(raw))
    layout = read_layout(tmp_path / "a.sgy")
    assert (layout.endian, layout.samples, layout.traces) == ("little", 50, 25)
    raw = bytearray((SEGY / "small.sgy").read_bytes())
    raw[3600 + 116: 3600 + 118] = (2000).to_bytes(2, "big")  # first trace says 2 ms, binary 4 ms
    (tmp_path / "b.sgy").write_bytes(bytes(raw))
    report = import_segy(tmp_path / "b.sgy", tmp_path / "b.zarr")
    assert "sample interval: binary header 4000 µs, first trace header 2000 µs; used the binary header" \
        in report["summary"]
    assert open_volume(tmp_path / "b.zarr")["sample"].values[1] == 4.0


def test_rev2_trace_header_extensions_refused(tmp_path):
    raw = bytearray((SEGY / "small.sgy").read_bytes())
    raw[3200 + 300] = 2
    raw[3200 + 306: 3200 + 310] = (1).to_bytes(4, "big")
    p = tmp_path / "rev2.sgy"
    p.write_bytes(bytes(raw))
    assert _error(p) == (f"{p}: SEG-Y rev 2 additional trace headers (bytes 3507-3510) are not supported; "
                         f"rewrite the file with standard 240-byte trace headers only.")
