"""Arrow columns as PostgreSQL's binary ``COPY`` stream, written by numpy: no Python value per cell.

The binary format (PostgreSQL's ``COPY`` documentation, "Binary Format"): a signature, then per row a
16-bit count of fields and, per field, a 32-bit length (-1 for NULL) and the value in its binary
``send`` form, all big-endian; a 16-bit -1 ends the stream. The server parses no text, which is most of
what a typed ``COPY`` of CSV costs it. Forms used here: ``int4``/``int8`` and ``float8`` as their bytes,
``date`` as days since 2000-01-01 (``int4``), ``timestamp`` as microseconds since 2000-01-01 00:00
(``int8``), ``bool`` one byte, ``text`` its UTF-8 bytes.

Each row is joined by Arrow (``binary_join_element_wise``) from its parts: the count of fields, then
per field its length and value, fixed-width values made by numpy as big-endian bytes, text as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # + flags, extension length
TRAILER = b"\xff\xff"
_DAYS_1970_2000 = 10_957
_MICROS_1970_2000 = _DAYS_1970_2000 * 86_400 * 1_000_000
_NULL = np.array(-1, dtype=">i4").tobytes()
_EMPTY = pa.scalar(b"", pa.binary())


def _binary(fixed: np.ndarray) -> pa.Array:
    """Rows of bytes of one width (a 2-D uint8 array, or a 1-D array of records) as an Arrow binary array."""
    n = len(fixed)
    width = fixed.dtype.itemsize if fixed.ndim == 1 else fixed.shape[1]
    buffer = pa.py_buffer(np.ascontiguousarray(fixed).tobytes())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, buffer]).cast(pa.binary())


def _fixed_values(values: pa.Array) -> np.ndarray:
    """The values as their big-endian binary form (NULLs as anything: they are not written)."""
    t = values.type
    if pa.types.is_boolean(t):
        return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=np.uint8)
    if pa.types.is_int32(t):
        return np.asarray(pc.fill_null(values, 0).to_numpy(), dtype=">i4")
    if pa.types.is_integer(t):
        return np.asarray(pc.fill_null(values, 0).to_numpy(), dtype=">i8")
    if pa.types.is_floating(t):
        return np.asarray(pc.fill_null(values, 0.0).to_numpy(), dtype=">f8")
    if pa.types.is_date32(t):
        days = np.asarray(pc.fill_null(values.cast(pa.int32()), _DAYS_1970_2000).to_numpy(), dtype=np.int64)
        return np.asarray(days - _DAYS_1970_2000, dtype=">i4")
    if pa.types.is_timestamp(t) and t.tz is None:
        micros = np.asarray(
            pc.fill_null(values.cast(pa.timestamp("us")).cast(pa.int64()), 0).to_numpy(), dtype=np.int64
        )
        return np.asarray(micros.astype(np.int64) - _MICROS_1970_2000, dtype=">i8")
    raise TypeError(f"no binary COPY form for {t}")


def _parts(values: pa.Array) -> list[pa.Array]:
    """A field's parts in every row: its length (-1 for NULL), then its value."""
    t = values.type
    if pa.types.is_string(t) or pa.types.is_binary(t):
        lengths = pc.fill_null(pc.binary_length(values), -1).to_numpy(zero_copy_only=False).astype(">i4")
        return [_binary(lengths), pc.fill_null(values.cast(pa.binary()), b"")]
    fixed = _fixed_values(values)
    records = np.empty(len(fixed), dtype=[("length", ">i4"), ("value", fixed.dtype)])
    records["length"] = fixed.dtype.itemsize
    records["value"] = fixed
    field = _binary(records)
    if values.null_count:
        field = pc.if_else(pc.is_valid(values), field, pa.scalar(_NULL, pa.binary()))
    return [field]


def rows(columns: Sequence[pa.Array]) -> memoryview:
    """The rows of COLUMNS (each an Arrow array of the same length: int, float, date32, timestamp[us]
    without a zone, bool or string) in the binary ``COPY`` form, without signature or trailer."""
    count = pa.scalar(np.array(len(columns), dtype=">i2").tobytes(), pa.binary())
    parts: list[pa.Array | pa.Scalar] = [count]
    for column in columns:
        parts += _parts(column)
    joined = pc.binary_join_element_wise(*parts, _EMPTY)
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)[joined.offset : joined.offset + len(joined) + 1]
    return memoryview(joined.buffers()[2])[int(offsets[0]) : int(offsets[-1])]
