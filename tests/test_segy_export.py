"""SEG-Y export: byte-identical round trips, module outputs on an imported geometry, generated headers."""

from __future__ import annotations

import numpy as np
import pytest
import segyio
from module_contract import ModuleContract
from segy_files import IMPORTABLE, SEGY, renumbered_small, segyio_traces, shuffled_small

from aaspi_py import AaspiError, open_volume, save_volume
from aaspi_py.io.segy import export_segy, import_segy


def _roundtrip(tmp_path, src):
    vol = tmp_path / "v.zarr"
    import_segy(src, vol)
    out = tmp_path / "out.sgy"
    report = export_segy(vol, out)
    return out, report


@pytest.mark.parametrize("name", IMPORTABLE)
def test_round_trip_is_byte_identical(tmp_path, name):
    out, report = _roundtrip(tmp_path, SEGY / name)
    assert out.read_bytes() == (SEGY / name).read_bytes()
    assert report["headers"] == "source"


def test_round_trip_of_unsorted_and_renumbered_files(tmp_path):
    shuffled, _ = shuffled_small(tmp_path)
    out, _ = _roundtrip(tmp_path, shuffled)
    assert out.read_bytes() == shuffled.read_bytes()
    renum = renumbered_small(tmp_path)
    vol = tmp_path / "renum.zarr"
    import_segy(renum, vol)
    export_segy(vol, tmp_path / "renum-out.sgy")
    assert (tmp_path / "renum-out.sgy").read_bytes() == renum.read_bytes()


def test_module_output_reuses_source_headers_as_ieee(tmp_path):
    vol = tmp_path / "volumes" / "f3.zarr"
    import_segy(SEGY / "f3.sgy", vol)
    src = open_volume(vol)
    derived = tmp_path / "volumes" / "f3_scaled.zarr"
    save_volume(src["data"] * 0.5, derived, like=src, kind="filtered")
    out = tmp_path / "scaled.sgy"
    report = export_segy(derived, out)
    assert report["headers"] == "reuse" and report["format"] == 5
    original = (SEGY / "f3.sgy").read_bytes()
    written = out.read_bytes()
    assert written[:3200] == original[:3200]
    binary = bytearray(original[3200:3600])
    binary[24:26] = (5).to_bytes(2, "big")
    assert written[3200:3600] == bytes(binary)
    with segyio.open(SEGY / "f3.sgy") as f, segyio.open(out) as g:
        assert g.bin[segyio.BinField.Format] == 5 and g.tracecount == f.tracecount
        np.testing.assert_array_equal(g.ilines, f.ilines)
        for i in (0, 200, f.tracecount - 1):
            assert bytes(g.header[i].buf) == bytes(f.header[i].buf)
            np.testing.assert_array_equal(g.trace[i], f.trace[i].astype(np.float32) * 0.5)


def test_classification_output_is_int16(tmp_path):
    vol = tmp_path / "small.zarr"
    import_segy(SEGY / "small.sgy", vol)
    src = open_volume(vol)
    classes = (np.arange(5 * 5 * 50).reshape(5, 5, 50) % 4).astype(np.int16)
    save_volume(classes, tmp_path / "classes.zarr", like=src, kind="classification")
    report = export_segy(tmp_path / "classes.zarr", tmp_path / "classes.sgy")
    assert report["format"] == 3
    with segyio.open(tmp_path / "classes.sgy") as f:
        np.testing.assert_array_equal(segyio.tools.cube(f), classes)


def test_holes_stay_holes(tmp_path):
    out, _ = _roundtrip(tmp_path, SEGY / "zfp-small_hole.sgy")
    src = open_volume(tmp_path / "v.zarr")
    save_volume(src["data"] + 1, tmp_path / "plus1.zarr", like=src)
    report = export_segy(tmp_path / "plus1.zarr", tmp_path / "plus1.sgy")
    assert report["traces"] == 24
    with segyio.open(tmp_path / "plus1.sgy", ignore_geometry=True) as f:
        assert f.tracecount == 24


def test_generated_headers_for_a_synthetic_volume(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 6, 30)).astype(np.float32)
    mask = np.ones((4, 6), bool)
    mask[1, 2] = False
    vol = save_volume(data, tmp_path / "syn.zarr", inline=np.arange(100, 108, 2), crossline=np.arange(7, 13),
                      sample=np.arange(30) * 2.0 + 10.0, trace_mask=mask)
    report = export_segy(vol, tmp_path / "syn.sgy")
    assert report["headers"] == "generated" and report["traces"] == 24 and report["format"] == 5
    with segyio.open(tmp_path / "syn.sgy") as f:
        np.testing.assert_array_equal(f.ilines, np.arange(100, 108, 2))
        np.testing.assert_array_equal(f.xlines, np.arange(7, 13))
        np.testing.assert_allclose(f.samples, np.arange(30) * 2.0 + 10.0)
        cube = segyio.tools.cube(f)
        expected = data.copy()
        expected[1, 2] = 0
        np.testing.assert_array_equal(cube, expected)
        assert f.header[1 * 6 + 2][segyio.TraceField.TraceIdentificationCode] == 2
        assert f.header[0][segyio.TraceField.TraceIdentificationCode] == 1
        assert f.header[7][segyio.TraceField.CDP_X] == 102  # cdp_x defaults to the inline number
        assert [f.header[k][segyio.TraceField.TRACE_SEQUENCE_FILE] for k in (0, 7, 23)] == [1, 8, 24]
    # and back: the masked trace is dead (all zero), so it is masked again
    import_segy(tmp_path / "syn.sgy", tmp_path / "back.zarr")
    back = open_volume(tmp_path / "back.zarr")
    np.testing.assert_array_equal(back["trace_mask"].values, mask)
    np.testing.assert_array_equal(back["data"].values, expected)


def test_generated_headers_in_blocks(tmp_path, monkeypatch):
    """Blocks smaller than the volume give the same file as one block."""
    import aaspi_py.io.segy_writer as writer

    data = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4) + 1
    vol = save_volume(data, tmp_path / "v.zarr", chunks=(2, 2, 4))
    export_segy(vol, tmp_path / "blocks.sgy")
    monkeypatch.setattr(writer, "BLOCK_TRACES", 10**6)
    export_segy(vol, tmp_path / "whole.sgy")
    assert (tmp_path / "blocks.sgy").read_bytes() == (tmp_path / "whole.sgy").read_bytes()
    with segyio.open(tmp_path / "blocks.sgy") as f:
        np.testing.assert_array_equal(segyio.tools.cube(f), data)
        assert [f.header[k][segyio.TraceField.TRACE_SEQUENCE_FILE] for k in range(30)] == list(range(1, 31))


def test_volume_imported_without_trace_headers(tmp_path):
    vol = tmp_path / "v.zarr"
    import_segy(SEGY / "small-lsb.sgy", vol, keep_headers=False)
    report = export_segy(vol, tmp_path / "out.sgy")
    assert report["headers"] == "generated" and report["endian"] == "little"
    raw = (tmp_path / "out.sgy").read_bytes()
    assert raw[:3200] == (SEGY / "small-lsb.sgy").read_bytes()[:3200]
    traces, _ = segyio_traces(SEGY / "small-lsb.sgy")
    with segyio.open(tmp_path / "out.sgy", endian="little") as f:
        assert f.bin[segyio.BinField.Format] == 5
        np.testing.assert_array_equal(segyio.tools.collect(f.trace[:]), traces)
        np.testing.assert_array_equal(f.ilines, [1, 2, 3, 4, 5])


def test_existing_file_needs_overwrite(tmp_path):
    out, _ = _roundtrip(tmp_path, SEGY / "small.sgy")
    with pytest.raises(AaspiError, match="already exists; pass --overwrite"):
        export_segy(tmp_path / "v.zarr", out)
    export_segy(tmp_path / "v.zarr", out, overwrite=True)
    assert out.read_bytes() == (SEGY / "small.sgy").read_bytes()


def test_module_and_cli_export(tmp_path, capsys):
    from aaspi_py import run
    from aaspi_py.cli.commands import main

    proj = tmp_path / "proj"
    assert main(["new-project", str(proj)]) == 0
    assert main(["import-segy", str(SEGY / "f3.sgy"), "f3", "--project", str(proj)]) == 0
    res = run("segy_export", proj, volume="f3", dst="results/f3.sgy")
    assert (proj / "results" / "f3.sgy").read_bytes() == (SEGY / "f3.sgy").read_bytes()
    assert res.report["summary"][0].startswith("wrote f3.sgy: 414 traces x 75 samples, format 3")
    capsys.readouterr()
    assert main(["export-segy", "f3", str(proj / "cli.sgy"), "--project", str(proj)]) == 0
    assert (proj / "cli.sgy").read_bytes() == (SEGY / "f3.sgy").read_bytes()
    assert main(["export-segy", "f3", str(proj / "cli.sgy"), "--project", str(proj)]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err


class TestSegyExportContract(ModuleContract):
    module_id = "segy_export"

    def setup_project(self, project):
        import_segy(SEGY / "small.sgy", project.volumes_dir / "small.zarr")
        return {"volume": "small", "dst": "results/small.sgy"}


@pytest.mark.parametrize("count_field", [1, -1])
def test_extended_textual_headers_round_trip(tmp_path, count_field):
    """Extended textual headers (a count, or -1 and an ((SEG: EndText)) stanza) are kept."""
    raw = bytearray((SEGY / "small.sgy").read_bytes())
    raw[3200 + 304: 3200 + 306] = count_field.to_bytes(2, "big", signed=True)
    stanza = "((SEG: EndText))".ljust(3200).encode("cp037") if count_field == -1 else \
        "extended textual header".ljust(3200).encode("cp037")
    path = tmp_path / "ext.sgy"
    path.write_bytes(bytes(raw[:3600]) + stanza + bytes(raw[3600:]))
    out, _ = _roundtrip(tmp_path, path)
    assert out.read_bytes() == path.read_bytes()
    traces, _ = segyio_traces(SEGY / "small.sgy")
    np.testing.assert_array_equal(open_volume(tmp_path / "v.zarr")["data"].values.reshape(25, -1), traces)
