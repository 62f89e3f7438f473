"""Secret masking: one set of values per job, replaced by ``***`` in one pass.

A job masks its ``secrets`` and every ``::add-mask::`` value (SPEC §12,
``docs/source/cli.rst``). :class:`Masker` holds them and masks the *union* of
every match, so overlapping secrets (``abcd1234`` and ``1234wxyz`` in
``abcd1234wxyz``) leave nothing visible, and it tells a line splitter where
it may cut a long line without splitting a secret in two.
"""

from __future__ import annotations

import json
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
    decoded with U+FFFD), its JSON string form (``toJSON``) and its URL
    encoding, as GitHub's runner does.
    """
    forms: list[str] = []
    for part in (value, *value.splitlines()):
        part = part.strip()
        if not part:
            continue
        raw = _raw(part)
        forms.append(part)
        forms.append(raw.decode("utf-8", "replace"))
        forms.append(json.dumps(part, ensure_ascii=False)[1:-1])
        forms.append(urllib.parse.quote(raw, safe=""))
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
class Masker:
    """The values a job masks, and the masking of text with them.

    Args:
        values: The first values to mask (the job's secrets).
    """

    __slots__ = ("_any", "_at", "_values", "longest", "version")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: dict[str, None] = {}
        self._any: re.Pattern[str] | None = None
        self._at: re.Pattern[str] | None = None
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
        new = [form for form in _forms(value) if form not in self._values]
        if not new:
            return
        self._values.update(dict.fromkeys(new))
        # Longest first: the alternation then matches the longest value that
        # starts at a position.
        ordered = sorted(self._values, key=len, reverse=True)
        alternation = "|".join(map(re.escape, ordered))
        self._any = re.compile(alternation)
        self._at = re.compile(f"(?=({alternation}))")
        self.longest = len(ordered[0])
        self.version += 1

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where values occur in ``text``: overlapping matches merged.

        Args:
            text: The text to search.

        Returns:
            Sorted, disjoint ``(start, end)`` spans; matches that overlap
            make one span, matches that only touch stay apart.
        """
        if self._any is None or self._at is None:
            return []
        first = self._any.search(text)
        if first is None:
            return []
        spans: list[tuple[int, int]] = []
        for match in self._at.finditer(text, first.start()):
            start = match.start()
            end = start + len(match.group(1))
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
        if self._any is None or self._any.search(text) is None:
            return text
        pieces: list[str] = []
        position = 0
        for start, end in self.spans(text):
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
        if self._any is None:
            return limit
        for start, end in self.spans(text[: limit + self.longest - 1]):
            if start < limit < end:
                return start if start > 0 else end
            if start >= limit:
                break
        return limit
