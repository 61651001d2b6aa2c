"""One-pass SEG-Y export of imported volumes: the file written back byte for byte without the
general writer, in batches that split pages, with and without O_DIRECT."""

from __future__ import annotations

import errno
import os

import pytest
from segy_files import SEGY, shuffled_small

import aaspi_py.io.segy_export_stream as export_stream
import aaspi_py.io.segy_stream as segy_stream
import aaspi_py.io.segy_writer as segy_writer
from aaspi_py.io.segy import export_segy, import_segy


def _no_general_writer(*args, **kwargs):
    raise AssertionError("the general writer ran")


@pytest.mark.parametrize("name", ["f3.sgy", "small-lsb.sgy", "multiformats/Format1msb.sgy",
                                  "multiformats/Format3msb.sgy", "multiformats/Format8msb.sgy"])
@pytest.mark.parametrize("batch_bytes", [4096, 32 << 20])
def test_imported_volume_is_written_back_in_one_pass(tmp_path, monkeypatch, name, batch_bytes):
    """Batches of one inline or of part of one (their ends fall inside disk pages) or of
    the whole survey: the file is the one imported, whatever its format and byte order."""
    vol = tmp_path / "v.zarr"
    import_segy(SEGY / name, vol, chunks=(4, 8, 32))
    monkeypatch.setattr(segy_writer, "export_segy", _no_general_writer)
    monkeypatch.setattr(segy_stream, "BATCH_BYTES", batch_bytes)
    report = export_segy(vol, tmp_path / "out.sgy")
    assert (tmp_path / "out.sgy").read_bytes() == (SEGY / name).read_bytes()
    assert report["headers"] == "source" and report["summary"][0].startswith(f"wrote out.sgy: {report['traces']}")


@pytest.mark.parametrize("refused", ["open", "write"])
def test_file_written_the_ordinary_way_where_o_direct_is_refused(tmp_path, monkeypatch, refused):
    vol = tmp_path / "v.zarr"
    import_segy(SEGY / "f3.sgy", vol)
    real_open, real_pwrite = os.open, os.pwrite
    direct, attempts, refusals = set(), [], []

    def open_(path, flags, *args, **kwargs):
        if flags & os.O_DIRECT:
            attempts.append(path)
        if flags & os.O_DIRECT and refused == "open":
            raise OSError(errno.EINVAL, "Invalid argument")
        fd = real_open(path, flags, *args, **kwargs)
        (direct.add if flags & os.O_DIRECT else direct.discard)(fd)  # numbers are reused
        return fd

    def pwrite(fd, data, offset):
        if fd in direct:
            refusals.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(export_stream.os, "open", open_)
    monkeypatch.setattr(export_stream.os, "pwrite", pwrite)
    export_segy(vol, tmp_path / "out.sgy")
    monkeypatch.undo()
    assert len(attempts) == 1 and len(refusals) == (refused == "write")
    assert (tmp_path / "out.sgy").read_bytes() == (SEGY / "f3.sgy").read_bytes()


def test_other_volumes_go_to_the_general_writer(tmp_path):
    """Traces in another order than the grid's, or holes: not a case for the one-pass export."""
    path, _ = shuffled_small(tmp_path)
    import_segy(path, tmp_path / "shuffled.zarr")
    import_segy(SEGY / "zfp-small_hole.sgy", tmp_path / "hole.zarr")
    assert export_stream.plan(tmp_path / "shuffled.zarr") is None
    assert export_stream.plan(tmp_path / "hole.zarr") is None
    assert export_stream.plan(tmp_path / "nothing.zarr") is None
    import_segy(SEGY / "f3.sgy", tmp_path / "f3.zarr")
    assert export_stream.plan(tmp_path / "f3.zarr")["shape"] == (23, 18, 75)
