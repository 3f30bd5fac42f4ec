"""Request text made safe and small to show: shared by ``trustproxy explain`` and ``whoami``.

Everything these tools print comes from a request (or a command line) that somebody else
may have written, so it goes through three guards before it reaches a terminal or a page:

* :func:`visible` escapes every character that is not printable — C0 controls, DEL, C1
  controls (U+0080-U+009F, of which U+009B is a CSI on many terminals), the bidi embedding,
  override and isolate controls (U+202A-U+202E, U+2066-U+2069, "Trojan Source",
  CVE-2021-42574), line and paragraph separators — so a value can neither drive the
  terminal (``ESC ] 0;title BEL``, ``ESC [2J``) nor start a line of its own nor reorder
  what follows it;
* :func:`shorten` cuts a value to :data:`MAX_SHOWN` characters with a visible marker, so a
  64 KB header line is shown as 1,000 characters, once;
* :func:`items_from_right` reads the items of a list header from the right within a fixed
  number of bounded ``rfind`` steps, the way the walk does (``_lists.nth_from_right``), so
  no display of a header costs more than a fixed amount of work whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._lists import MAX_ITEM_LENGTH, item_left_of

__all__ = ["MAX_SHOWN", "items_from_right", "shorten", "visible"]

#: The most characters of one value shown.
MAX_SHOWN = 1000


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every character that is not printable written as a Python escape.

    "Printable" is :meth:`str.isprintable`: it is false for the Unicode categories Cc
    (C0, DEL, C1), Cf (bidi controls, zero-width characters), Cs, Co, Cn, Zl, Zp and every
    space but U+0020 — exactly what must not reach a terminal raw.  The result is always
    printable and never holds a newline.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters, with a marker giving the full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [truncated: {len(text):,} characters in all]"


def items_from_right(
    values: Sequence[str], steps: int, limit: int = MAX_ITEM_LENGTH
) -> tuple[list[str], bool]:
    """The non-empty comma-separated items of ``values``, rightmost first.

    ``values`` are the lines of one list header in arrival order (RFC 9110 §5.3: they
    form one list, so the last line holds the rightmost items).  Reading takes at most
    ``steps`` ``rfind`` calls, each over at most ``limit`` characters; an item longer than
    ``limit`` costs one step per ``limit`` characters and is returned cut to ``limit``
    characters followed by ``…``.  Empty elements (RFC 9110 §5.6.1) cost a step and are
    skipped.  Returns the items and whether every line was read to its left end.
    """
    items: list[str] = []
    for value in reversed(values):
        end = len(value)
        while end >= 0:
            if steps <= 0:
                return items, False
            steps -= 1
            # The one scanner (_lists.item_left_of) reads each item; only an item too
            # long for it is followed further here, to show where it starts.
            item, start = item_left_of(value, end, limit)
            if item is None:
                window = end - limit
                while start < 0 and window > 0:
                    # An over-long item: look for its start one more window to the left.
                    if steps <= 0:
                        return items, False
                    steps -= 1
                    right, window = window, (window - limit if window > limit else 0)
                    start = value.rfind(",", window, right)
                item = value[start + 1 : start + 1 + limit].strip(" \t") + "…"
            if item:
                items.append(item)
            end = start
    return items, True
