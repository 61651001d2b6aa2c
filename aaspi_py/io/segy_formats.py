"""SEG-Y sample formats: decoding to float32 and encoding back, exactly.

The import decodes samples through segyio; :func:`decode` serves the files segyio cannot
open (a variable number of extended textual headers) and is checked equal to segyio in the
tests. The export encodes with :func:`encode`.

Sample format codes (binary header bytes 3225-3226, SEG-Y rev 2 numbering):

====  ==========================  =========
code  meaning                     handled
====  ==========================  =========
1     4-byte IBM float            yes, exact both ways
2     4-byte signed integer       yes
3     2-byte signed integer       yes
4     4-byte fixed point w/ gain  refused
5     4-byte IEEE float           yes
6     8-byte IEEE float           yes
7     3-byte signed integer       refused
8     1-byte signed integer       yes
9     8-byte signed integer       yes
10    4-byte unsigned integer     yes
11    2-byte unsigned integer     yes
12    8-byte unsigned integer     yes
15    3-byte unsigned integer     refused
16    1-byte unsigned integer     yes
====  ==========================  =========

Codes 4, 7 and 15 are refused because segyio (the reference decoder) opens such files
without error but returns wrong values, so there is nothing to check a decoder against.

Volumes hold float32. Every value of formats 1, 3, 5, 8, 11 and 16 is a float32, so those
round-trip exactly; integers of formats 2, 9, 10, 12 beyond 2**24 in magnitude and float64
values of format 6 are rounded to the nearest float32 (the import report says when).

IBM float: sign bit, 7-bit excess-64 base-16 exponent, 24-bit fraction. Its value is
``fraction * 2**(4 * exponent - 280)``; a normalised 24-bit fraction always fits the
24-bit float32 significand, so decoding is exact (``numpy.ldexp`` on float32), and
re-encoding the decoded value gives back the same bits. As segyio does, magnitudes below
float32's normal range decode to zero and magnitudes above it to the largest float32.
"""

from __future__ import annotations

import numpy as np

from aaspi_py.framework.errors import AaspiError

#: code -> (name, item size in bytes, numpy kind and size of the big-endian dtype)
FORMATS: dict[int, tuple[str, int, str]] = {
    1: ("4-byte IBM float", 4, "u4"),
    2: ("4-byte signed integer", 4, "i4"),
    3: ("2-byte signed integer", 2, "i2"),
    5: ("4-byte IEEE float", 4, "f4"),
    6: ("8-byte IEEE float", 8, "f8"),
    8: ("1-byte signed integer", 1, "i1"),
    9: ("8-byte signed integer", 8, "i8"),
    10: ("4-byte unsigned integer", 4, "u4"),
    11: ("2-byte unsigned integer", 2, "u2"),
    12: ("8-byte unsigned integer", 8, "u8"),
    16: ("1-byte unsigned integer", 1, "u1"),
}
REFUSED = {
    4: "4-byte fixed point with gain",
    7: "3-byte signed integer",
    15: "3-byte unsigned integer",
}
#: formats whose every value is exactly a float32
EXACT_IN_FLOAT32 = (1, 3, 5, 8, 11, 16)

_IBM_MIN = 0x21200000  # |bits| below this decode to 0 (segyio's threshold)
_IBM_MAX = 0x611FFFFF  # |bits| above this saturate to the largest float32 (segyio's threshold)
_F32_MAX_BITS = 0x7F7FFFFF


def check_format(code: int, where: str) -> None:
    """Raise a one-line error unless ``code`` is a sample format we decode faithfully."""
    if code in FORMATS:
        return
    usable = ", ".join(str(c) for c in FORMATS)
    if code in REFUSED:
        raise AaspiError(
            f"{where}: sample format {code} ({REFUSED[code]}) is not supported (segyio misreads it, so it "
            f"cannot be verified); convert the file to format 1 (IBM) or 5 (IEEE float) and import that."
        )
    raise AaspiError(
        f"{where}: binary header sample format code {code} is not a SEG-Y sample format; "
        f"usable codes are {usable} (the binary header may be damaged)."
    )


def format_name(code: int) -> str:
    return FORMATS[code][0] if code in FORMATS else REFUSED.get(code, f"unknown format {code}")


def sample_dtype(code: int, endian: str) -> np.dtype:
    """numpy dtype of one sample as stored in the file (``endian`` 'big' or 'little')."""
    kind = FORMATS[code][2]
    return np.dtype((">" if endian == "big" else "<") + kind)


def item_size(code: int) -> int:
    return FORMATS[code][1]


# ---------------------------------------------------------------- decode

def decode(raw: np.ndarray, code: int, out: np.ndarray | None = None) -> np.ndarray:
    """Stored samples (any shape, file dtype from :func:`sample_dtype`) -> float32 array,
    written into ``out`` (float32, same shape) when given."""
    if code == 1:
        value = ibm_to_float32(raw)
        if out is None:
            return value
        out[...] = value
        return out
    if out is None:
        return raw.astype(np.float32)
    np.copyto(out, raw, casting="unsafe")  # byte swap and conversion in one pass
    return out


def ibm_to_float32(raw: np.ndarray) -> np.ndarray:
    """IBM float bit patterns (uint32 of either byte order) -> float32, exactly.

    Parameters
    ----------
    raw : array of uint32 (any byte order), any shape

    Returns
    -------
    float32 array of the same shape
    """
    bits = raw.astype(np.uint32, copy=False)  # native byte order
    magnitude = bits & np.uint32(0x7FFFFFFF)
    fraction = (bits & np.uint32(0x00FFFFFF)).astype(np.float32)  # exact: 24 bits
    exponent = (magnitude >> np.uint32(24)).astype(np.int32) * 4 - 280
    with np.errstate(over="ignore", under="ignore"):
        value = np.ldexp(fraction, exponent)
    out = value.view(np.uint32)
    out[magnitude < _IBM_MIN] = 0
    out[(magnitude > _IBM_MAX) | np.isinf(value)] = _F32_MAX_BITS
    out |= bits & np.uint32(0x80000000)
    return value


# ---------------------------------------------------------------- encode

def encode(values: np.ndarray, code: int, endian: str) -> np.ndarray:
    """float32 samples -> array in the file's dtype (integers rounded and clipped to range)."""
    dtype = sample_dtype(code, endian)
    if code == 1:
        return float32_to_ibm(values).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        vals = np.rint(np.asarray(values, dtype=np.float64))
        return np.clip(vals, info.min, info.max).astype(dtype)
    return np.asarray(values).astype(dtype)


def float32_to_ibm(values: np.ndarray) -> np.ndarray:
    """float32 -> IBM float bit patterns (native uint32), rounding to nearest.

    A value that was decoded from IBM comes back to the same bits (its significand has at
    most 24 bits after the base-16 alignment). Other floats lose up to 3 low bits, as any
    IBM encoder must. Non-finite values become the largest IBM magnitude.
    """
    v = np.asarray(values, dtype=np.float32)
    sign = v.view(np.uint32) & np.uint32(0x80000000)
    a = np.abs(v).astype(np.float64)
    finite = np.isfinite(a)
    a = np.where(finite, a, 0.0)
    mant, exp2 = np.frexp(a)  # a = mant * 2**exp2, mant in [0.5, 1)
    exp16 = -((-exp2) // 4)  # ceil(exp2 / 4): a < 16**exp16
    fraction = np.ldexp(mant, exp2 - 4 * exp16)  # in [1/16, 1)
    digits = np.rint(np.ldexp(fraction, 24)).astype(np.int64)
    carry = digits >= (1 << 24)  # rounding overflowed the fraction: renormalise
    digits = np.where(carry, digits >> 4, digits)
    exp16 = exp16 + carry
    bits = ((exp16 + 64).astype(np.int64) << 24) | digits
    bits = np.where(a == 0, 0, bits)
    bits = np.where(finite, bits, 0x7FFFFFFF)
    return (bits.astype(np.uint32) | sign).astype(np.uint32)
