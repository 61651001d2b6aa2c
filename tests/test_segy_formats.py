"""Sample format decoding against segyio, exact IBM float both ways, header field table."""

from __future__ import annotations

import numpy as np
import pytest
import segyio
from segy_files import SEGY, records, write

from aaspi_py.io.segy_formats import (
    FORMATS,
    decode,
    encode,
    float32_to_ibm,
    ibm_to_float32,
    sample_dtype,
)
from aaspi_py.io.segy_layout import TRACE_FIELDS, header_field


def _normalised_ibm(rng, n):
    """Random IBM words with a non-zero leading hex digit and exponents inside float32's range."""
    sign = rng.integers(0, 2, n, dtype=np.uint32) << 31
    exponent = rng.integers(64 - 30, 64 + 31, n, dtype=np.uint32) << 24
    fraction = rng.integers(0x100000, 0x1000000, n, dtype=np.uint32)
    return sign | exponent | fraction


def _file_with_words(tmp_path, words: np.ndarray, code: int, dtype: str):
    """small.sgy's headers with traces replaced by ``words`` (25 x 50) stored as ``dtype``."""
    head, recs, _ = records(SEGY / "small.sgy")
    head = bytearray(head)
    head[3224:3226] = code.to_bytes(2, "big")
    size = np.dtype(dtype).itemsize
    out = np.zeros((25, 240 + 50 * size), np.uint8)
    out[:, :240] = recs[:, :240]
    out[:, 240:] = np.ascontiguousarray(words.reshape(25, 50).astype(dtype)).view(np.uint8).reshape(25, -1)
    return write(tmp_path / f"words{code}.sgy", bytes(head), out)


def test_ibm_decode_equals_segyio(tmp_path):
    words = _normalised_ibm(np.random.default_rng(1), 25 * 50)
    words[:4] = [0, 0x80000000, 0x41100000, 0xC276A000]  # 0, -0, 1.0, -118.625
    path = _file_with_words(tmp_path, words, 1, ">u4")
    with segyio.open(path, ignore_geometry=True) as f:
        ref = segyio.tools.collect(f.trace[:]).ravel()
    mine = ibm_to_float32(words.astype(">u4"))
    np.testing.assert_array_equal(mine, ref)
    assert mine[2] == 1.0 and mine[3] == -118.625


def test_ibm_round_trip_is_exact():
    words = _normalised_ibm(np.random.default_rng(2), 200_000)
    np.testing.assert_array_equal(float32_to_ibm(ibm_to_float32(words)), words)
    assert float32_to_ibm(np.float32([-0.0]))[0] == 0x80000000


def test_ibm_encode_rounds_to_nearest():
    values = np.random.default_rng(3).standard_normal(10_000).astype(np.float32) * 1e3
    back = ibm_to_float32(float32_to_ibm(values))
    # IBM keeps at least 21 significant bits
    np.testing.assert_allclose(back, values, rtol=2.0**-21)
    assert np.abs(back.astype(np.float64) - values).max() > 0  # some values really lost bits


@pytest.mark.parametrize("code", [2, 3, 5, 6, 8, 9, 10, 11, 12, 16])
def test_other_formats_decode_like_segyio(tmp_path, code):
    dtype = sample_dtype(code, "big")
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    rng = np.random.default_rng(code)
    if info is not None:
        lo, hi = max(info.min, -2**24), min(info.max, 2**24)
        values = rng.integers(lo, hi, 25 * 50, endpoint=True)
    else:  # float32-exact values, so the round trip through the float32 volume is exact
        values = (rng.standard_normal(25 * 50) * 100).astype(np.float32).astype(np.float64)
    path = _file_with_words(tmp_path, values, code, dtype.str)
    with segyio.open(path, ignore_geometry=True) as f:
        ref = segyio.tools.collect(f.trace[:]).ravel().astype(np.float32)
    raw = values.astype(dtype)
    np.testing.assert_array_equal(decode(raw, code), ref)
    # and back to the same bytes
    assert encode(decode(raw, code), code, "big").tobytes() == raw.tobytes()


def test_every_handled_format_is_listed():
    assert sorted(FORMATS) == [1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 16]


def test_header_fields_match_segyio():
    """Every standard trace header field decodes as segyio decodes it (sizes and signs)."""
    rng = np.random.default_rng(4)
    head, recs, _ = records(SEGY / "small.sgy")
    recs[0, :240] = rng.integers(0, 256, 240, dtype=np.uint8)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = write(Path(d) / "h.sgy", head, recs)
        with segyio.open(path, ignore_geometry=True) as f:
            ref = {int(k): v for k, v in f.header[0].items()}
    assert set(TRACE_FIELDS) - set(ref) == {233, 237}  # unassigned bytes segyio does not name
    for byte in ref:
        mine = header_field(recs[:1, :240], byte, "big")[0]
        if byte in (115, 117):  # segyio reads the sample count and interval unsigned
            mine %= 1 << 16
        assert mine == ref[byte], byte
