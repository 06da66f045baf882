"""SOQL string literals: Salesforce's escape rules, and LIKE patterns.

Escapes are `\\' \\" \\\\ \\n \\r \\t \\b \\f \\uXXXX` (the letters n r t b f in either
case [S30]); `\\_` and `\\%` only inside LIKE; any other backslash makes the whole query
MALFORMED_QUERY. simple-salesforce's `format_soql` produces exactly these, so an escaped
visitor value can never end the literal early.
"""

from __future__ import annotations

import re

from sf_emulator.errors import malformed_query

_CONTROL = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
_SIMPLE = {
    "'": "'",
    '"': '"',
    "\\": "\\",
    **_CONTROL,
    **{k.upper(): v for k, v in _CONTROL.items()},  # `\\N` is `\\n` [S30]
}
_HEX = re.compile(r"[0-9a-fA-F]{4}")


def _illegal(raw: str, seq: str) -> Exception:
    return malformed_query(
        f"Invalid string literal {raw}. Illegal character sequence '{seq}' in string literal."
    )


def _pieces(raw: str, like: bool) -> list[tuple[bool, str]]:
    """(escaped?, text) pieces of a quoted literal's body."""
    body = raw[1:-1]
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append((False, ch))
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _SIMPLE:
            out.append((True, _SIMPLE[nxt]))
            i += 2
        elif nxt == "u" and _HEX.fullmatch(body[i + 2 : i + 6]):
            out.append((True, chr(int(body[i + 2 : i + 6], 16))))
            i += 6
        elif nxt in {"_", "%"} and like:
            out.append((True, nxt))
            i += 2
        else:
            raise _illegal(raw, "\\" + nxt)
    return out


def unescape(raw: str) -> str:
    """The value of a quoted SOQL string literal (quotes included in `raw`)."""
    return "".join(text for _, text in _pieces(raw, like=False))


def like_regex(raw: str) -> re.Pattern[str]:
    """A case-insensitive regex for a LIKE pattern: `%` any run, `_` any one character."""
    parts = []
    for escaped, text in _pieces(raw, like=True):
        if not escaped and text == "%":
            parts.append(".*")
        elif not escaped and text == "_":
            parts.append(".")
        else:
            parts.append(re.escape(text))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
