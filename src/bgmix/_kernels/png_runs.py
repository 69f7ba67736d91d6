"""The image data of a grey PNG coded as runs: a zlib stream (RFC 1950) holding one
DEFLATE block (RFC 1951) with the fixed Huffman codes, in which every run of equal
bytes is one literal and copies of the byte before it (distance 1).

A PNG's image data is the zlib stream of its filtered scanlines; with filter type 0
(none) each scanline is a 0 byte followed by the row's bytes. A mask is mostly long
runs (0 for the background, 255 for objects, a shadow value), which this coding
stores in about 13 bits per 258 bytes, while zlib's general matcher at its fastest
level still looks at every byte through its hash chains (3.5 ms a 1080p mask against
about 0.2 ms here). Any PNG reader decodes the result: it is plain DEFLATE.

Coding a run of ``L`` bytes of value ``v`` that follows a different byte::

    literal v, then copies (length m, distance 1) with 3 <= m <= 258 for the other
    L - 1 bytes (the last one or two bytes as literals when fewer than 3 are left)

The fixed codes (RFC 1951, 3.2.6): literals 0-143 are 8 bits (0x30 + v), 144-255 9
bits (0x190 + v - 144); lengths 257-279 are 7 bits (code - 256), 280-287 8 bits
(0xC0 + code - 280); distance 1 is distance code 0, 5 bits. Huffman codes are stored
from their most significant bit, in a stream filled from each byte's least
significant bit, so the tables below hold them bit-reversed.

The zlib trailer is the Adler-32 of the filtered scanlines, here summed run by run in
closed form: for ``L`` bytes of value ``v``, ``s2 += L * s1 + v * L (L + 1) / 2`` and
``s1 += L * v`` (modulo 65521).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["deflate_runs", "max_deflate_size"]

U8 = np.uint8
U64 = np.uint64
I64 = np.int64

_ADLER = I64(65521)
#: Bytes checked at a time when looking for the end of a run.
_BLOCK = 64


def _reverse(code: int, bits: int) -> int:
    return int(f"{code:0{bits}b}"[::-1], 2)


def _literal_codes() -> tuple[np.ndarray, np.ndarray]:
    """Bit-reversed fixed codes and their lengths for literal/length symbols 0-287."""
    codes = np.zeros(288, np.uint64)
    bits = np.zeros(288, np.uint64)
    for s in range(288):
        if s < 144:
            c, n = 0x30 + s, 8
        elif s < 256:
            c, n = 0x190 + s - 144, 9
        elif s < 280:
            c, n = s - 256, 7
        else:
            c, n = 0xC0 + s - 280, 8
        codes[s], bits[s] = _reverse(c, n), n
    return codes, bits


def _length_symbols() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each copy length 0-258 (3-258 used): its symbol, extra bits and their count."""
    base = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
            67, 83, 99, 115, 131, 163, 195, 227, 258]  # fmt: skip
    extra = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
    symbol = np.zeros(259, np.uint64)
    value = np.zeros(259, np.uint64)
    count = np.zeros(259, np.uint64)
    for i, (b, e) in enumerate(zip(base, extra, strict=True)):
        for length in range(b, min(b + (1 << e), 259)):
            if i == 28 or length < 258:
                symbol[length], value[length], count[length] = 257 + i, length - b, e
    symbol[258], value[258], count[258] = 285, 0, 0
    return symbol, value, count


_LIT_CODE, _LIT_BITS = _literal_codes()
_LEN_SYMBOL, _LEN_EXTRA, _LEN_EXTRA_BITS = _length_symbols()


def max_deflate_size(height: int, width: int) -> int:
    """Bytes :func:`deflate_runs` may write for a ``height`` x ``width`` image: every
    byte a 9-bit literal, plus the header, the end code and the trailer."""
    return (height * (width + 1) * 9 + 7) // 8 + 16


@njit(inline="always")
def _put(out, pos, acc, nacc, code, bits):
    """Append ``bits`` bits of ``code`` (least significant first) to the bit stream:
    ``acc`` holds ``nacc`` pending bits; whole bytes go to ``out[pos:]``."""
    acc |= code << nacc
    nacc += bits
    while nacc >= U64(8):
        out[pos] = U8(acc & U64(0xFF))
        acc >>= U64(8)
        nacc -= U64(8)
        pos += 1
    return pos, acc, nacc


@njit(inline="always")
def _put_run(out, pos, acc, nacc, value, length):
    """Code ``length`` bytes of ``value`` that follow a different byte: a literal,
    then copies of distance 1 (lengths 3 to 258), then up to two literals."""
    lit_code = _LIT_CODE[value]
    lit_bits = _LIT_BITS[value]
    pos, acc, nacc = _put(out, pos, acc, nacc, lit_code, lit_bits)
    left = length - 1
    while left >= 3:
        m = min(left, I64(258))
        if left - m == 1 or left - m == 2:  # keep at least 3 for the last copy
            m = left - 3
        sym = _LEN_SYMBOL[m]
        pos, acc, nacc = _put(out, pos, acc, nacc, _LIT_CODE[sym], _LIT_BITS[sym])
        pos, acc, nacc = _put(out, pos, acc, nacc, _LEN_EXTRA[m], _LEN_EXTRA_BITS[m])
        pos, acc, nacc = _put(out, pos, acc, nacc, U64(0), U64(5))  # distance 1
        left -= m
    while left > 0:
        pos, acc, nacc = _put(out, pos, acc, nacc, lit_code, lit_bits)
        left -= 1
    return pos, acc, nacc


@njit(inline="always")
def _adler_run(s1, s2, value, length):
    """Adler-32's sums after ``length`` more bytes of ``value``."""
    v = I64(value)
    lm = length % _ADLER
    s2 = (s2 + lm * s1 + v * ((length * (length + 1) // 2) % _ADLER)) % _ADLER
    s1 = (s1 + lm * v) % _ADLER
    return s1, s2


@njit(cache=True, nogil=True, error_model="numpy")
def deflate_runs(image, out, limit):
    """Code the filtered scanlines of ``image`` as a zlib stream of runs into ``out``.

    Parameters
    ----------
    image : (H, W) uint8 ndarray
        IN: the grey image, H and W at least 1.
    out : (N,) uint8 ndarray
        OUT: the zlib stream; :func:`max_deflate_size` bytes are always enough.
    limit : int
        IN: give up as soon as the stream passes this many bytes: the image is not
        made of runs (a photograph takes about 9 bits a pixel this way).

    Returns
    -------
    int
        Bytes written, or -1 when the stream passed ``limit``.
    """
    h, w = image.shape
    uw = U64(w)
    out[0] = U8(0x78)  # deflate, 32 KiB window
    out[1] = U8(0x01)  # fastest level, no dictionary (0x7801 is a multiple of 31)
    pos = 2
    acc = U64(0b011)  # BFINAL = 1, then BTYPE = 01: fixed codes
    nacc = U64(3)
    s1 = I64(1)
    s2 = I64(0)
    value = U8(0)  # the run being gathered: `length` bytes of `value`
    length = I64(0)
    for y in range(h):
        row = image[y]
        # the scanline's filter byte, 0 (none)
        if length > 0 and value == U8(0):
            length += 1
        else:
            if length > 0:
                pos, acc, nacc = _put_run(out, pos, acc, nacc, value, length)
                s1, s2 = _adler_run(s1, s2, value, length)
            value = U8(0)
            length = I64(1)
        x = U64(0)
        while x < uw:
            b = row[x]
            e = x + U64(1)
            while e < uw:  # skip whole blocks equal to b (a vector loop)
                stop = min(e + U64(_BLOCK), uw)
                d = U8(0)
                for i in range(e, stop):
                    d = U8(d | (row[i] ^ b))
                if d != U8(0):
                    break
                e = stop
            while e < uw and row[e] == b:
                e += U64(1)
            if b == value:
                length += I64(e - x)
            else:
                pos, acc, nacc = _put_run(out, pos, acc, nacc, value, length)
                s1, s2 = _adler_run(s1, s2, value, length)
                if pos > limit:
                    return -1
                value = b
                length = I64(e - x)
            x = e
    pos, acc, nacc = _put_run(out, pos, acc, nacc, value, length)
    s1, s2 = _adler_run(s1, s2, value, length)
    pos, acc, nacc = _put(out, pos, acc, nacc, _LIT_CODE[256], _LIT_BITS[256])  # end
    if nacc > U64(0):
        out[pos] = U8(acc & U64(0xFF))
        pos += 1
    if pos + 4 > limit:
        return -1
    out[pos] = U8(s2 >> 8)
    out[pos + 1] = U8(s2 & 0xFF)
    out[pos + 2] = U8(s1 >> 8)
    out[pos + 3] = U8(s1 & 0xFF)
    return pos + 4
