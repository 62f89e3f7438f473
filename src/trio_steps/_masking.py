"""Secret masking: one set of values per job, replaced by ``***`` in one pass.

A job masks its ``secrets`` and every ``::add-mask::`` value (rules §12,
``docs/source/cli.rst``). :class:`Masker` holds them and masks the *union* of
every match, so overlapping secrets (``abcd1234`` and ``1234wxyz`` in
``abcd1234wxyz``) leave nothing visible, and it tells a line splitter where
it may cut a long line without splitting a secret in two.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Iterable
from typing import Final, final

__all__ = ["MASK", "Masker"]

#: What a masked value is replaced by.
MASK: Final = "***"


def _forms(value: str) -> list[str]:
    """The texts ``value`` may show up as in a step's output.

    The value itself and each of its lines (stripped), and for each: the
    text a step's output decoder makes of its bytes when they are not UTF-8
    (a command-line secret holds them as surrogate escapes, step output is
    decoded with U+FFFD), its JSON string form (``toJSON``), its URL
    encoding and its base64 forms, as GitHub's runner does.
    """
    forms: list[str] = []
    for part in (value, *value.splitlines()):
        part = part.strip()
        if not part:
            continue
        raw = _raw(part)
        forms.append(part)
        forms.append(raw.decode("utf-8", "replace"))
        forms.append(_json_string(part))
        forms.append(urllib.parse.quote(raw, safe=""))
        if len(raw) >= _BASE64_MIN:
            forms.extend(_base64_forms(raw))
    return forms


_JSON_ESCAPES: Final = {
    **{chr(code): f"\\u{code:04x}" for code in range(0x20)},
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_JSON_SPECIAL: Final = re.compile('[\x00-\x1f"\\\\]')


def _json_string(text: str) -> str:
    """``text`` as inside a JSON string (``json.dumps`` without ASCII escapes).

    Written out so that a job without JSON needs no :mod:`json` (start-up
    time; nothing is imported while a job runs).
    """
    return _JSON_SPECIAL.sub(lambda found: _JSON_ESCAPES[found.group()], text)


#: The shortest value (in bytes) whose base64 forms are masked too: the
#: forms of shorter ones are too short not to be found by chance.
_BASE64_MIN: Final = 6


def _base64_forms(raw: bytes) -> list[str]:
    """The base64 text of ``raw`` wherever it starts in a 3-byte group.

    Only the characters that depend on ``raw`` alone, so that the value is
    found inside a longer encoded text (``echo "$TOKEN" | base64``).
    """
    forms = []
    for shift in range(3):
        text = base64.b64encode(bytes(shift) + raw).decode("ascii")
        first = -(-8 * shift // 6)
        last = 8 * (shift + len(raw)) // 6
        forms.append(text[first:last])
    return forms


def _raw(text: str) -> bytes:
    """The bytes ``text`` stands for; surrogate escapes give their byte back."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    return b"".join(
        bytes([ord(char) - 0xDC00])
        if "\udc80" <= char <= "\udcff"
        else char.encode("utf-8", "surrogatepass")
        for char in text
    )


@final
class _Chunk:
    """Some of the values, with one pattern that matches any of them."""

    __slots__ = ("pattern", "values")

    def __init__(self, values: list[str]) -> None:
        self.values = values
        # Longest first: the alternation then matches the longest value that
        # starts at a position.
        ordered = sorted(values, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered)))

    def spans(self, text: str, spans: list[tuple[int, int]]) -> None:
        """Append where the values occur in ``text``, overlapping ones merged."""
        search, match = self.pattern.search, self.pattern.match
        found = search(text)
        while found is not None:
            start, end = found.span()
            # A value may start inside the match and end after it.
            probe = start + 1
            while probe < end:
                inner = match(text, probe)
                if inner is not None and inner.end() > end:
                    end = inner.end()
                probe += 1
            spans.append((start, end))
            found = search(text, end)


@final
class Masker:
    """The values a job masks, and the masking of text with them.

    The values are kept in a few chunks, each with one compiled pattern:
    adding a value compiles only small chunks (merged two by two, like a
    binary counter), so that many ``::add-mask::`` lines cost ``n log n``,
    not ``n²``.

    Args:
        values: The first values to mask (the job's secrets).
    """

    __slots__ = ("_chunks", "_values", "longest", "version")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._chunks: list[_Chunk] = []
        #: The length of the longest value masked (0 when there is none).
        self.longest = 0
        #: How many times the set of values grew (0 for an empty masker).
        self.version = 0
        for value in values:
            self.add(value)

    def __bool__(self) -> bool:
        return bool(self._values)

    def add(self, value: str) -> None:
        """Mask ``value`` (and each of its lines, stripped) from now on.

        Args:
            value: The value; one made only of whitespace masks nothing.
        """
        new = list(dict.fromkeys(f for f in _forms(value) if f not in self._values))
        if not new:
            return
        self._values.update(new)
        chunks = self._chunks
        chunks.append(_Chunk(new))
        while len(chunks) > 1 and len(chunks[-2].values) <= len(chunks[-1].values):
            last = chunks.pop()
            chunks[-1] = _Chunk(chunks[-1].values + last.values)
        self.longest = max(self.longest, *map(len, new))
        self.version += 1

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where values occur in ``text``: overlapping matches merged.

        Args:
            text: The text to search.

        Returns:
            Sorted, disjoint ``(start, end)`` spans; matches that overlap
            make one span, matches that only touch stay apart.
        """
        found: list[tuple[int, int]] = []
        for chunk in self._chunks:
            chunk.spans(text, found)
        if len(self._chunks) > 1:
            found.sort()
        spans: list[tuple[int, int]] = []
        for start, end in found:
            if spans and start < spans[-1][1]:
                if end > spans[-1][1]:
                    spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def mask(self, text: str) -> str:
        """Replace every masked value in ``text`` by ``***``.

        Args:
            text: The text to mask.

        Returns:
            ``text`` with each span of :meth:`spans` replaced by ``***``.
        """
        if not self._chunks:
            return text
        spans = self.spans(text)
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for start, end in spans:
            pieces.append(text[position:start])
            pieces.append(MASK)
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def safe_cut(self, text: str, limit: int) -> int:
        """Where to cut ``text`` near ``limit`` without splitting a value.

        Args:
            text: A line being cut into pieces; it must hold at least
                ``limit + longest - 1`` characters (or all there will be), so
                that any value crossing ``limit`` is whole in it.
            limit: The wanted length of the first piece.

        Returns:
            ``limit``, or the start of the masked span that crosses it (the
            end of that span when it starts at 0).
        """
        if not self._chunks:
            return limit
        for start, end in self.spans(text[: limit + self.longest - 1]):
            if start < limit < end:
                return start if start > 0 else end
            if start >= limit:
                break
        return limit
