"""Numba kernel for the hot loop of importing IBM-float SEG-Y: raw trace bytes -> float32.

One pass over the raw records, bit for bit the values of
:func:`aaspi_py.segy_formats.ibm_to_float32` (the numpy reference the tests compare with).

An IBM word holds ``fraction * 2**(4 * exponent - 280)`` with a 24-bit fraction. A 24-bit
integer converts to float32 exactly, and float32 normalises it for us: its exponent field
becomes ``127 + msb`` and its mantissa the fraction's bits below the msb. Scaling by
``2**(4 * exponent - 280)`` is then one integer addition to the exponent field — exact as
long as the result stays a normal float32. Everything else (zero fraction, results that
would be subnormal or overflow, segyio's thresholds for tiny and huge words) takes a slow,
exact branch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_IBM_MIN = 0x21200000  # segyio: magnitudes below decode to 0
_IBM_MAX = 0x611FFFFF  # segyio: magnitudes above decode to the largest float32
_F32_MAX_BITS = 0x7F7FFFFF


@njit(cache=True, nogil=True)
def _slow(w, out, bits, t, k):
    sign = w & np.uint32(0x80000000)
    magnitude = w & np.uint32(0x7FFFFFFF)
    if magnitude < _IBM_MIN:
        bits[t, k] = sign
        return
    value = math.ldexp(float(w & np.uint32(0x00FFFFFF)), np.int64(magnitude >> np.uint32(24)) * 4 - 280)
    if magnitude > _IBM_MAX or value > 3.4028234663852886e38:
        bits[t, k] = sign | np.uint32(_F32_MAX_BITS)
        return
    out[t, k] = np.float32(value)  # one rounding (subnormal results)
    bits[t, k] |= sign


@njit(cache=True, nogil=True)
def ibm_records_to_float32(words, big_endian, out):
    """Decode IBM words into float32.

    Parameters
    ----------
    words : uint32 array of shape (n_traces, >= n_samples) holding the raw words in file
        byte order (e.g. a uint32 view of whole trace records, offset past the header)
    big_endian : byte order of the words
    out : C-contiguous float32 array of shape (n_traces, n_samples), filled in place
    """
    n, ns = out.shape
    bits = out.view(np.uint32)
    for t in range(n):
        row = words[t]
        for k in range(ns):
            w = row[k]
            if big_endian:
                w = ((w & np.uint32(0xFF)) << np.uint32(24)) | ((w & np.uint32(0xFF00)) << np.uint32(8)) \
                    | ((w >> np.uint32(8)) & np.uint32(0xFF00)) | (w >> np.uint32(24))
            magnitude = w & np.uint32(0x7FFFFFFF)
            fraction = w & np.uint32(0x00FFFFFF)
            # exponent of the result if the fraction is normalised (msb 20..23): safe range only
            shift = np.int64(magnitude >> np.uint32(24)) * 4 - 280
            if fraction >= np.uint32(0x100000) and magnitude >= np.uint32(_IBM_MIN) \
                    and magnitude <= np.uint32(_IBM_MAX) and -126 - 20 < shift < 128 - 24:
                out[t, k] = np.float32(fraction)
                b = np.int64(bits[t, k]) + (shift << 23)
                if 0x00800000 <= b < 0x7F800000:
                    bits[t, k] = np.uint32(b) | (w & np.uint32(0x80000000))
                    continue
            out[t, k] = 0.0
            _slow(w, out, bits, t, k)
    return out
