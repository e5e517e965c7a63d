"""Split a Labelbox export file into raw records without loading it whole.

Three layouts exist on the wire (spec sections 2.4 and 4.6):

* ``v1_array``: export v1, one JSON array of label records (the ``downloadUrl`` body);
* ``v1_object``: one bare v1 record (or several, back to back), as the SDK's test assets;
* ``ndjson``: export v2 / streamable, one data-row record per line.

:func:`iter_raw_records` yields ``(position, raw bytes)`` per record and never holds more than
one record plus one read chunk in memory. The array splitter matches balanced brackets with a
compiled regular expression (possessive quantifiers, so the scan runs in C without
backtracking) up to :data:`FAST_DEPTH` levels; deeper or unusual values take a token-by-token
path. Whether a slice is valid JSON is the decoder's business: a malformed element is still
yielded so the caller can reject it with its position. A v1 array must end with its ``]``:
a file cut anywhere (between records or inside one) raises
:class:`~labelbox_provider.exceptions.TruncatedExportError` once its records are read, so that
a truncated export never looks complete. A file that ends inside a record (an NDJSON last
line without its newline, or a bare v1 object, that the decoder finds truncated) raises it too.
A malformed record anywhere else, garbage line included, is yielded for the caller to reject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Literal, NamedTuple

import msgspec

from labelbox_provider.exceptions import ExportFormatError, TruncatedExportError

Format = Literal["v1_array", "v1_object", "ndjson"]
FORMATS: tuple[str, ...] = ("v1_array", "v1_object", "ndjson")

CHUNK_BYTES = 1 << 20  # bytes read per refill of the array splitter's buffer
PEEK_BYTES = 1 << 16  # bytes looked at by detect_format
FAST_DEPTH = 24  # bracket nesting matched by the one-shot regex; deeper values use the slow path
LINE_SCAN_BYTES = 1 << 26  # in a line-per-record file, how far a record may span lines
MAX_RECORD_BYTES = 1 << 30  # a single record larger than this is a corrupt file, not a record

_BOM = b"\xef\xbb\xbf"
_WS_COMMA = re.compile(rb"[\s,]*+")
_STR = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'


def _balanced(depth: int) -> re.Pattern[bytes]:
    """A pattern for one bracketed value nested at most ``depth`` levels below the outer one."""
    inner = rb'(?:[^{}\[\]"]++|' + _STR + rb")*+"
    for _ in range(depth):
        inner = rb'(?:[^{}\[\]"]++|' + _STR + rb"|[{\[]" + inner + rb"[}\]])*+"
    return re.compile(rb"[{\[]" + inner + rb"[}\]]", re.DOTALL)


_VALUE = _balanced(FAST_DEPTH)
_TOKEN = re.compile(_STR + rb'|[{}\[\]]|"', re.DOTALL)
_STRING = re.compile(_STR, re.DOTALL)
_SCALAR = re.compile(rb"[^,\]\s]*+")
_DECODER = msgspec.json.Decoder()
_SKIP = msgspec.json.Decoder(msgspec.Raw).decode  # validates and skips a value, builds nothing
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")  # msgspec's message (tested)
_TRUNCATED = "Input data was truncated"
_AT_BYTE = re.compile(r"\(byte (\d+)\)")
_MORE_END = -1  # _skip_end: the value runs past the buffer
_WS = b" \t\r\n"
KEY_MISSES = 8  # candidates tried by _by_key before skipping the record instead


def detect_format(fp: BinaryIO) -> Format:
    """Tell the layout of an export from its first bytes, without consuming them.

    A seekable stream is read and rewound to where it was; an unseekable buffered stream is
    peeked. An empty file counts as NDJSON (a v2 export with no result lines).

    >>> import io
    >>> detect_format(io.BytesIO(b' [{"ID": "a"}]'))
    'v1_array'
    >>> detect_format(io.BytesIO(b'{\\n  "ID": "a"\\n}'))
    'v1_object'
    >>> detect_format(io.BytesIO(b'{"data_row": {}}\\n{"data_row": {}}\\n'))
    'ndjson'
    """
    if fp.seekable():
        start = fp.tell()
        head = fp.read(PEEK_BYTES)
        fp.seek(start)
    else:
        peek = getattr(fp, "peek", None)
        if peek is None:
            raise ExportFormatError("cannot detect the format of an unseekable, unpeekable stream")
        head = peek(PEEK_BYTES)
    return _format_of(head)


def _format_of(head: bytes) -> Format:
    body = head.removeprefix(_BOM).lstrip()
    if not body:
        return "ndjson"
    if body[:1] == b"[":
        return "v1_array"
    if body[:1] != b"{":
        raise ExportFormatError(f"an export starts with '[' or '{{', not {body[:1]!r}")
    newline = body.find(b"\n")
    if newline == -1:
        return "ndjson"  # one line: a lone object, the same single record either way
    try:
        first = msgspec.json.decode(body[:newline])
    except msgspec.DecodeError:  # a pretty-printed object, or NDJSON with a garbage first line
        return "ndjson" if _object_line(body, newline + 1) else "v1_object"
    return "ndjson" if isinstance(first, dict) else "v1_object"


def _object_line(body: bytes, start: int) -> bool:
    """True if the line at ``start`` is whole (within ``body``) and one JSON object."""
    end = body.find(b"\n", start)
    line = body[start:end].strip() if end != -1 else b""
    try:
        return line[:1] == b"{" and isinstance(msgspec.json.decode(line), dict)
    except msgspec.DecodeError:
        return False


def iter_raw_records(fp: BinaryIO, fmt: str = "auto") -> Iterator[tuple[int, bytes]]:
    """Yield ``(position, raw JSON bytes)`` for each record of an export, in file order.

    ``position`` counts records from 0 (blank NDJSON lines are not records). ``fmt`` is one of
    :data:`FORMATS` or ``"auto"`` (then :func:`detect_format` decides; the stream must be
    seekable or peekable). A truncated or malformed element is yielded as is, so that the
    caller's decoder rejects it with its position; a v1 array that ends without its closing
    ``]`` then raises :class:`~labelbox_provider.exceptions.TruncatedExportError` (a cut file
    must not look complete).

    >>> import io
    >>> list(iter_raw_records(io.BytesIO(b'[{"a": [1, {"b": "}"}]}, {"c": 2}]')))
    [(0, b'{"a": [1, {"b": "}"}]}'), (1, b'{"c": 2}')]
    """
    for record in iter_decoded(fp, fmt):
        yield record.position, record.raw


class Decoded(NamedTuple):
    """One record: its position, its raw bytes and the decoded value (or why it failed)."""

    position: int  # 0-based index of the record in the export
    raw: bytes  # the record's JSON text, exactly as in the file
    value: Any  # the decoded JSON value (None when error is set)
    error: str | None  # the decoder's message when the bytes are not valid JSON


def iter_decoded(
    fp: BinaryIO,
    fmt: str = "auto",
    decode: Callable[[bytes], Any] | None = None,
    *,
    line_records: bool = False,
) -> Iterator[Decoded]:
    """Like :func:`iter_raw_records`, with each record decoded by msgspec as it is split.

    ``decode`` replaces the plain JSON decoder (say, a typed msgspec decoder that falls back
    to plain values); it must raise :class:`msgspec.DecodeError` for bytes that are not JSON.
    Line-structured files (NDJSON, and v1 arrays written one record per line as the export
    server does) are split on newlines and each line is decoded once; any other layout falls
    back to bracket matching. ``line_records`` says that the stream continues a v1 array
    already seen to hold one record per line (the later range of a file split between two
    processes): a malformed line is then limited to its line from the first record on, as it
    would be that far into the whole file.

    >>> import io
    >>> [r.value for r in iter_decoded(io.BytesIO(b'[\\n{"ID": "a"},\\n{"ID": "b"}\\n]'))]
    [{'ID': 'a'}, {'ID': 'b'}]
    """
    if fmt == "auto":
        fmt = detect_format(fp)
    decode = decode or _DECODER.decode
    if fmt == "ndjson":
        return _iter_lines(fp, decode)
    if fmt in ("v1_array", "v1_object"):
        return _iter_values(fp, decode, in_array=fmt == "v1_array", line_records=line_records)
    raise ExportFormatError(f"unknown export format {fmt!r}; expected one of {FORMATS}")


def _decode(position: int, raw: bytes, decode: Callable[[bytes], Any]) -> Decoded:
    try:
        return Decoded(position, raw, decode(raw), None)
    except msgspec.DecodeError as exc:
        return Decoded(position, raw, None, str(exc))


def _iter_lines(fp: BinaryIO, decode: Callable[[bytes], Any]) -> Iterator[Decoded]:
    position = 0
    first = True
    for line in fp:
        record = line.strip()
        if first:
            record = record.removeprefix(_BOM).strip()
            first = False
        if record:
            decoded = _decode(position, record, decode)
            yield decoded
            if _cut(decoded) and not line.endswith(b"\n"):  # the last line, cut mid-record
                raise TruncatedExportError(_cut_inside(position))
            position += 1


class _Buffer:
    """A sliding window over the stream: the unconsumed tail of what was read so far."""

    def __init__(self, fp: BinaryIO) -> None:
        self.fp = fp
        first = fp.read(max(CHUNK_BYTES, len(_BOM)))
        self.data = first.removeprefix(_BOM)
        self.pos = 0
        self.eof = not first

    def refill(self) -> None:
        """Drop consumed bytes and read at least as much again as is pending."""
        pending = len(self.data) - self.pos
        if pending > MAX_RECORD_BYTES:
            raise ExportFormatError(f"a record exceeds {MAX_RECORD_BYTES} bytes")
        more = self.fp.read(max(CHUNK_BYTES, pending))
        self.eof = not more
        self.data = self.data[self.pos :] + more
        self.pos = 0

    def skip_separators(self) -> None:
        """Advance over whitespace and commas, reading more while only those remain."""
        while True:
            match = _WS_COMMA.match(self.data, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.data) or self.eof:
                return
            self.refill()

    def line_end(self) -> int:
        """End of the current line within the bytes read so far, or -1."""
        end = self.data.find(b"\n", self.pos)
        if end == -1 and self.eof:
            end = len(self.data)
        return end


def _iter_values(
    fp: BinaryIO, decode: Callable[[bytes], Any], *, in_array: bool, line_records: bool = False
) -> Iterator[Decoded]:
    buf = _Buffer(fp)
    buf.skip_separators()
    if in_array:
        if buf.data[buf.pos : buf.pos + 1] != b"[":
            raise ExportFormatError("a v1 export array must start with '['")
        buf.pos += 1
    splitter = _Splitter(buf, decode)
    splitter.lines_seen = int(line_records)
    cut_at = -1  # position of the last record whose JSON stops short (a cut one)
    while True:
        if splitter.by_line and splitter.lines_seen:
            yield from splitter.whole_lines()
            if not buf.eof:
                yield from splitter.file_lines()
        buf.skip_separators()
        last_cut = cut_at >= 0 and cut_at == splitter.position - 1  # nothing read since
        if _at_end(buf, splitter.position, in_array=in_array, last_cut=last_cut):
            return
        record = splitter.next_record()  # a stray ']' inside the array is a malformed record
        if record is None:
            buf.refill()
            continue
        yield record
        if _cut(record):
            cut_at = record.position
        at_eof = buf.eof and buf.pos + len(record.raw) == len(buf.data)
        if not in_array and cut_at == record.position and at_eof:
            raise TruncatedExportError(_cut_inside(record.position))
        buf.pos += len(record.raw)
        splitter.position += 1


_AGAIN = (
    "the file is truncated (a cut download or a partial copy), so none of it is used; "
    "download the export again (the run's retry does)"
)


def _truncated(records: int) -> str:
    return f"the v1 export array ends after {records} record(s) without its closing ']': {_AGAIN}"


def _cut_inside(position: int) -> str:
    return f"the export file ends inside record {position}: {_AGAIN}"


_COUNTED = re.compile(r"(ends after |ends inside record )(\d+)")


def shift_truncated(message: str, offset: int) -> str:
    """The message of a :class:`TruncatedExportError` raised while reading a later range of a
    file (positions counted from that range's start) as reading the whole file gives it."""
    return _COUNTED.sub(lambda m: f"{m[1]}{int(m[2]) + offset}", message, count=1)


def _cut(record: Decoded) -> bool:
    """True if the decoder found the record's bytes ending before the record does (msgspec
    says "truncated", or, for a number cut after its '.', "invalid number" at the last byte)."""
    error = record.error
    if error is None:
        return False
    at = _AT_BYTE.search(error)
    return error.startswith(_TRUNCATED) or (at is not None and int(at[1]) >= len(record.raw))


def _at_end(buf: _Buffer, records: int, *, in_array: bool, last_cut: bool) -> bool:
    """True at the end of the values: the array's closing ``]`` with only whitespace after it,
    or the end of the file. A v1 array that reaches the end of the file without its ``]``
    (a download cut between records, or inside one) raises: it must not look complete; so
    does a last ``]`` right after a record whose JSON stops short (the file was cut just after
    a ``]`` inside that record)."""
    if buf.pos >= len(buf.data):
        if in_array:
            raise TruncatedExportError(_truncated(records))
        return True
    if not (in_array and buf.data[buf.pos] == 0x5D and _only_whitespace_after(buf)):  # ']'
        return False
    if last_cut:
        raise TruncatedExportError(_cut_inside(records - 1))
    return True


def _only_whitespace_after(buf: _Buffer) -> bool:
    """True if the ``]`` at the buffer's position is the last thing in the file (then it ends
    the array); otherwise it is a stray bracket, a malformed element (nothing is dropped)."""
    while not buf.data[buf.pos + 1 :].strip(_WS):
        if buf.eof:
            return True
        buf.refill()  # keeps the ']' at the buffer's position
    return False


class _Splitter:
    """Finds the record at the buffer's position: by whole line while the file is laid out
    one record per line (the export server's layout), else by bracket matching."""

    def __init__(self, buf: _Buffer, decode: Callable[[bytes], Any]) -> None:
        self.buf = buf
        self.decode = decode
        self.position = 0  # index of the next record
        self.by_line = True  # until a record spans lines, try whole lines first
        self.lines_seen = 0  # records read as whole lines: evidence of line structure
        self.key: bytes | None = None  # how records start ('{"ID":'), learned from the first

    def whole_lines(self) -> Iterator[Decoded]:
        """The records of the complete lines in the buffer, one per line, up to the first
        line that is not exactly one valid record (left to :meth:`next_record`). The same
        records, bytes and positions as :meth:`next_record` gives, with less work per line."""
        buf = self.buf
        data = buf.data
        pos = buf.pos
        while (newline := data.find(b"\n", pos)) != -1:
            record = self._line(data, pos, newline)
            if record is _MORE:
                break
            pos = buf.pos = newline + 1
            if record is not None:
                yield record
        buf.pos = pos

    def file_lines(self) -> Iterator[Decoded]:
        """Like :meth:`whole_lines`, reading the file a line at a time (no buffer copies)
        once the buffer holds only the start of a line; a line that is not exactly one
        valid record becomes the buffer again, for :meth:`next_record`."""
        buf = self.buf
        readline = buf.fp.readline
        line = buf.data[buf.pos :] + readline()
        decode, position = self.decode, self.position
        record: Decoded | None
        while line:
            raw = line.rstrip(_TRAIL_NL)
            if raw[:1] == b"{" and raw[-1:] == b"}":  # the usual line: one record, no indent
                try:
                    record = Decoded(position, raw, decode(raw), None)
                except msgspec.DecodeError:
                    break
                position = self.position = position + 1
                self.lines_seen += 1
            else:
                record = self._line(line, 0, len(line) - (line[-1] == 0x0A))
                if record is _MORE:
                    break
                position = self.position
            if record is not None:
                yield record
            line = readline()
        buf.data, buf.pos, buf.eof = line, 0, not line

    def _line(self, data: bytes, pos: int, newline: int) -> Decoded | None:
        """The record that ``data[pos:newline]`` is, None for a blank line, or _MORE."""
        start, end = pos, newline
        while start < end and data[start] in _LEAD:
            start += 1
        while end > start and data[end - 1] in _TRAIL:
            end -= 1
        if start == end:
            return None
        if data[start] != 0x7B or data[end - 1] != 0x7D:  # not '{...}'
            return _MORE
        record = _decode(self.position, data[start:end], self.decode)
        if record.error is not None:
            return _MORE
        self.position += 1
        self.lines_seen += 1
        return record

    def next_record(self) -> Decoded | None:
        """The next record, or None if more bytes must be read first."""
        buf = self.buf
        record = self._by_line() if self.by_line else None
        if record is _MORE:
            return None
        if record is None:
            record = self._fast_record()
            if record is _MORE:
                return None
        if record is None:
            end = _value_end(buf.data, buf.pos, buf.eof)
            if end is None and not buf.eof:
                return None
            end = len(buf.data) if end is None else end  # truncated: the decoder will say so
            record = _decode(self.position, buf.data[buf.pos : end], self.decode)
            at_end = buf.eof and end == len(buf.data)  # a cut last record stays whole
            if record.error is not None and not (at_end and _cut(record)):
                # malformed: it must not swallow the array's ']' or the next lines' records
                indent = _column(buf.data, buf.pos)
                raw = _before_next_line_record(_closed_prefix(record.raw), self.decode, indent)
                record = _decode(self.position, raw, self.decode)
        self.by_line = self.by_line and _ends_line(buf.data, buf.pos, buf.pos + len(record.raw))
        return record

    def _fast_record(self) -> Decoded | None:
        """The object record at the buffer's position, its end found cheaply and proved by the
        decoder (see :func:`_by_key` and :func:`_skip_end`); None leaves it to bracket
        matching (malformed records, scalars), _MORE asks for more bytes."""
        buf = self.buf
        data, pos = buf.data, buf.pos
        if data[pos] != 0x7B:  # '{'
            return None
        if self.key:
            record = _by_key(data, pos, self.key, self.position, self.decode)
            if record is not None:
                return record
        end = _skip_end(data, pos, buf.eof)
        if end is None or end == _MORE_END:
            return _MORE if end == _MORE_END else None
        record = _decode(self.position, data[pos:end], self.decode)
        if record.error is not None:
            return None
        if self.key is None:
            self.key = _first_key(record.raw)
        return record

    def _by_line(self) -> Decoded | None:
        buf = self.buf
        end = buf.line_end()
        if end == -1 and self.lines_seen:
            return _MORE  # a long line in a line-structured file: read on
        record = _line_record(buf, end, self.position, self.decode)
        if record is None and self.lines_seen:
            record = _bad_line(buf, end, self.position, self.decode)
            if record is None:
                return _MORE
        self.lines_seen += record is not None
        return record


_MORE = Decoded(-1, b"", None, "more bytes needed")  # sentinel: read more, then retry
_LEAD = b" \t\r\f\v,"  # before a record on its line (as skip_separators skips)
_TRAIL = b" \t\r,"  # after it (as _line_end_trimmed trims; ']' is left to the slow path)
_TRAIL_NL = _TRAIL + b"\n"


def _ends_line(data: bytes, start: int, end: int) -> bool:
    """True if ``data[start:end]`` is one line: no newline inside, one right after."""
    return data.find(b"\n", start, end) == -1 and data.find(b"\n", end, end + 64) != -1


def _line_end_trimmed(buf: _Buffer, end: int) -> int:
    data = buf.data
    while end > buf.pos and data[end - 1] in b" \t\r,]":
        end -= 1
    return end


def _line_record(
    buf: _Buffer, end: int, position: int, decode: Callable[[bytes], Any]
) -> Decoded | None:
    """The record filling the current line up to ``end``, if that line holds exactly one."""
    if end == -1 or buf.data[buf.pos] != 0x7B:  # '{'
        return None
    end = _line_end_trimmed(buf, end)
    if buf.data[end - 1] != 0x7D:  # '}'
        return None
    record = _decode(position, buf.data[buf.pos : end], decode)
    return None if record.error else record


def _bad_line(
    buf: _Buffer, end: int, position: int, decode: Callable[[bytes], Any]
) -> Decoded | None:
    """In a one-record-per-line file, a line that is not a record: either a valid record
    spanning lines (bracket-matched and decoded), or a malformed record limited to its line
    (so that an unbalanced brace cannot swallow the records after it). None: read more."""
    value_end = _value_end(buf.data, buf.pos, buf.eof)
    if value_end is not None:
        record = _decode(position, buf.data[buf.pos : value_end], decode)
        # valid, or malformed but closed on its own line ('[Infinity]'): trimming the line's
        # trailing separators would cut its own ']' and leave it to reject the array's close
        if record.error is None or value_end <= end:
            return record
    elif not buf.eof and len(buf.data) - buf.pos < LINE_SCAN_BYTES:
        return None
    stop = _line_end_trimmed(buf, end)
    if stop <= buf.pos:  # nothing left once trailing separators are trimmed (a stray ']')
        stop = value_end or max(end, buf.pos + 1)
    return _decode(position, buf.data[buf.pos : stop], decode)


def _first_key(raw: bytes) -> bytes:
    """The record's opening up to its first key and colon (``{"ID":``), or b"" if unusual."""
    colon = raw.find(b'":', 2)
    if raw[:2] != b'{"' or colon == -1 or b"\\" in raw[:colon]:
        return b""
    return raw[: colon + 2]


def _by_key(
    data: bytes, pos: int, key: bytes, position: int, decode: Callable[[bytes], Any]
) -> Decoded | None:
    """The record at ``pos`` ended where the next record's key starts (``}`` ws ``,`` ws
    ``key``). Records of an export all open with the same key, so ``bytes.find`` (memchr
    speed) gives a candidate; it is taken only if the slice decodes, which proves it is the
    whole record: a JSON object is valid exactly up to its own closing brace. A candidate
    inside a string or a nested object just fails to decode; after KEY_MISSES, None."""
    start = pos + 1
    for _ in range(KEY_MISSES):
        cand = data.find(key, start)
        if cand == -1:
            return None
        start = cand + 1
        j = cand - 1
        while data[j] in _WS:
            j -= 1
        if data[j] != 0x2C:  # ','
            continue
        j -= 1
        while data[j] in _WS:
            j -= 1
        if data[j] != 0x7D:  # '}'
            continue
        try:
            return Decoded(position, data[pos : j + 1], decode(data[pos : j + 1]), None)
        except msgspec.DecodeError:
            continue
    return None


def _skip_end(data: bytes, pos: int, eof: bool) -> int | None:
    """End of the JSON value at ``pos``, found by msgspec skipping it in C (``msgspec.Raw``
    builds no objects): what follows the value makes it fail with "trailing characters (byte
    N)". _MORE_END if the value runs past the buffer, None if it is malformed."""
    try:
        _SKIP(memoryview(data)[pos:])
    except msgspec.DecodeError as exc:
        message = str(exc)
        match = _TRAILING.search(message)
        if match is None:
            return _MORE_END if message.startswith(_TRUNCATED) and not eof else None
        end = pos + int(match.group(1)) - 1
    else:  # the rest of the buffer is exactly one value: complete only at end of file
        if not eof:
            return _MORE_END
        end = len(data)
    while end > pos and data[end - 1] in _WS:
        end -= 1
    return end


def _value_end(data: bytes, pos: int, eof: bool) -> int | None:
    """End offset of the JSON value starting at ``pos``, or None if it runs past ``data``."""
    first = data[pos]
    if first in b"{[":
        match = _VALUE.match(data, pos)
        return match.end() if match else _bracket_end(data, pos)
    if first == 0x22:  # '"'
        match = _STRING.match(data, pos)
        return match.end() if match else None
    match = _SCALAR.match(data, pos)
    end = match.end() if match else pos
    if end >= len(data) and not eof:
        return None
    return max(end, pos + 1)


def _closed_prefix(raw: bytes) -> bytes:
    """``raw`` up to its first closing bracket that does not match the open one (bracket
    matching pairs any opener with any closer: ``{ ... ]`` would take the array's own ``]``
    into a malformed record), whitespace-trimmed; all of ``raw`` if every closer matches."""
    stack = bytearray()
    for match in _TOKEN.finditer(raw):
        char = raw[match.start()]
        if char == 0x22:  # '"': a whole string is skipped; a lone quote runs to the end
            if match.end() - match.start() == 1:
                return raw
        elif char in b"{[":
            stack.append(char)
        elif char in b"}]" and (not stack or stack.pop() != (0x7B if char == 0x7D else 0x5B)):
            return raw[: match.start()].rstrip(_WS) or raw[: match.end()]
    return raw


RESYNC_LINES = 64  # lines of a malformed value tried as the start of the next record


def _column(data: bytes, pos: int) -> int:
    """The column of ``data[pos]`` on its line."""
    return pos - (data.rfind(b"\n", 0, pos) + 1)


def _before_next_line_record(raw: bytes, decode: Callable[[bytes], Any], indent: int = 0) -> bytes:
    """A malformed value spanning lines, up to the first later line that is a whole valid
    JSON value (records one per line, as the export server writes them): so that a garbage
    line does not swallow the records after it. All of ``raw`` if no line is. Only a line
    indented no deeper than the value's first line (``indent``, its column) can start the
    next record: the deeper lines of a pretty-printed record (``null,``) are its own."""
    start = 0
    for _ in range(RESYNC_LINES):
        newline = raw.find(b"\n", start)
        if newline == -1:
            return raw
        start = newline + 1
        end = raw.find(b"\n", start)
        text = raw[start : end if end != -1 else len(raw)]
        line = text.strip(_TRAIL_NL)
        if not line or len(text) - len(text.lstrip(_WS)) > indent:
            continue
        try:
            decode(line)
        except msgspec.DecodeError:
            continue
        return raw[:newline].rstrip(_TRAIL_NL)
    return raw


def _bracket_end(data: bytes, pos: int) -> int | None:
    """Token-by-token bracket matching: the slow path for deep or incomplete values."""
    depth = 0
    for match in _TOKEN.finditer(data, pos):
        char = data[match.start()]
        if char == 0x22:
            if match.end() - match.start() == 1:
                return None  # unterminated string: more bytes needed
            continue
        depth += 1 if char in b"{[" else -1
        if depth == 0:
            return match.end()
    return None
