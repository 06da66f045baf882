"""`{!Name}` placeholders ("Dynamic Info"): resolved in plain values and in SOQL. Pure.

In SOQL a placeholder's value only ever lands inside a string literal that this module
writes and escapes (`chat_salesforce.soql`), so no value can change the query's
structure. The template may put a placeholder

- outside quotes: `WHERE Email = {!Visitor.Email}` -> `WHERE Email = 'jo@x.co'` (a JSON
  number renders as a number, true/false as a boolean, null as `null`);
- inside a single-quoted literal, alone or among other text: `'{!Visitor.Email}'`,
  `LIKE '%{!Visitor.Name}%'` (the value's own `%` and `_` are escaped inside LIKE, so a
  visitor's value never becomes a wildcard; the template's remain wildcards);
- inside double quotes, straight or typographic, as the product's knowledge base writes it:
  `= "{!Visitor.Email}"`, `= “{!Visitor.Email"}"` (SOQL has no double-quoted strings:
  such a literal is rewritten single-quoted, its own text kept).

An unknown placeholder is an error naming it, never an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from chat_contracts.base import JsonScalar
from chat_salesforce.soql import escape_like, escape_string, format_number, quote

OPEN = "{!"
_DOUBLE_QUOTES = '"\u201c\u201d'
_NAME_STRIP = " \t" + _DOUBLE_QUOTES + "'"
_LIKE_BEFORE = re.compile(r"\bLIKE\s*$", re.IGNORECASE)
_BAD_NAME = re.compile(r"[{}\x00-\x1f]")


class TemplateError(ValueError):
    """A template that cannot be rendered: unterminated literal or placeholder, bad name."""


class UnknownPlaceholders(TemplateError):
    """Placeholders whose names `variables` does not hold."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        super().__init__("unknown placeholder(s): " + ", ".join(f"{{!{n}}}" for n in names))


@dataclass(frozen=True, slots=True)
class _Raw:
    text: str


@dataclass(frozen=True, slots=True)
class _Slot:
    name: str


@dataclass(frozen=True, slots=True)
class _Literal:
    pieces: tuple[_Raw | _Slot, ...]
    like: bool


_Segment = _Raw | _Slot | _Literal


def as_text(value: JsonScalar) -> str:
    """How a variable reads inside text: null is empty, booleans are `true`/`false`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return value


def placeholders(text: str) -> tuple[str, ...]:
    """The distinct placeholder names of `text`, in order of appearance."""
    return tuple(dict.fromkeys(name for name, _, _ in _scan_slots(text)))


def substitute(text: str, variables: Mapping[str, JsonScalar]) -> JsonScalar:
    """Resolve the placeholders of a plain value (a field value, a search value).

    A value that is exactly one placeholder takes the variable's value with its JSON type;
    otherwise each placeholder is replaced by the variable's text (`as_text`).
    """
    slots = list(_scan_slots(text))
    _check_known([name for name, _, _ in slots], variables)
    if len(slots) == 1 and slots[0][1] == 0 and slots[0][2] == len(text):
        return variables[slots[0][0]]
    out, last = [], 0
    for name, start, end in slots:
        out += [text[last:start], as_text(variables[name])]
        last = end
    out.append(text[last:])
    return "".join(out)


def render_soql(template: str, variables: Mapping[str, JsonScalar]) -> str:
    """The SOQL of `template` with every placeholder rendered as an escaped literal."""
    segments = _parse(template)
    names = [s.name for s in _slots(segments)]
    _check_known(names, variables)
    return "".join(_render(s, variables) for s in segments)


def _check_known(names: list[str], variables: Mapping[str, JsonScalar]) -> None:
    unknown = tuple(dict.fromkeys(n for n in names if n not in variables))
    if unknown:
        raise UnknownPlaceholders(unknown)


def _slots(segments: list[_Segment]) -> Iterator[_Slot]:
    for segment in segments:
        if isinstance(segment, _Slot):
            yield segment
        elif isinstance(segment, _Literal):
            yield from (p for p in segment.pieces if isinstance(p, _Slot))


def _render(segment: _Segment, variables: Mapping[str, JsonScalar]) -> str:
    if isinstance(segment, _Raw):
        return segment.text
    if isinstance(segment, _Slot):
        return quote(variables[segment.name])
    escape = escape_like if segment.like else escape_string
    body = "".join(
        p.text if isinstance(p, _Raw) else escape(as_text(variables[p.name]))
        for p in segment.pieces
    )
    return "'" + body + "'"


def _parse(template: str) -> list[_Segment]:
    segments: list[_Segment] = []
    before: list[str] = []  # the query text so far, literals reduced to a marker
    buf: list[str] = []
    i, n = 0, len(template)

    def flush() -> None:
        if buf:
            segments.append(_Raw("".join(buf)))
            before.append("".join(buf))
            buf.clear()

    while i < n:
        ch = template[i]
        if template.startswith(OPEN, i):
            flush()
            name, i = _read_slot(template, i)
            like = bool(_LIKE_BEFORE.search("".join(before)))
            segments.append(_Literal((_Slot(name),), like) if like else _Slot(name))
            before.append(" x ")
        elif ch == "'" or ch in _DOUBLE_QUOTES:
            flush()
            literal, i = _read_literal(template, i, bool(_LIKE_BEFORE.search("".join(before))))
            segments.append(literal)
            before.append(" x ")
        else:
            buf.append(ch)
            i += 1
    flush()
    return segments


def _read_literal(template: str, start: int, like: bool) -> tuple[_Literal, int]:
    """A quoted literal from `start` (its opening quote); returns it and the index after."""
    closing = "'" if template[start] == "'" else _DOUBLE_QUOTES
    pieces: list[_Raw | _Slot] = []
    buf: list[str] = []
    j, n = start + 1, len(template)
    while True:
        if j >= n:
            raise TemplateError(f"unterminated string literal at position {start}")
        ch = template[j]
        if ch == "\\":
            if j + 1 >= n:
                raise TemplateError(f"unterminated string literal at position {start}")
            buf.append(template[j : j + 2])  # the template's own escape, kept as written
            j += 2
        elif template.startswith(OPEN, j):
            if buf:
                pieces.append(_Raw("".join(buf)))
                buf.clear()
            name, j = _read_slot(template, j)
            pieces.append(_Slot(name))
        elif ch in closing:
            j += 1
            break
        else:
            # A bare `'` can only occur in a double-quoted literal being rewritten.
            buf.append("\\'" if ch == "'" else ch)
            j += 1
    if buf:
        pieces.append(_Raw("".join(buf)))
    return _Literal(tuple(pieces), like), j


def _read_slot(text: str, start: int) -> tuple[str, int]:
    end = text.find("}", start + len(OPEN))
    if end < 0:
        raise TemplateError(f"unterminated placeholder at position {start}")
    raw = text[start + len(OPEN) : end]
    # `{!Visitor.Email"}`: the knowledge base's own example has a stray quote inside.
    name = raw.strip(_NAME_STRIP)
    if not name or _BAD_NAME.search(name):
        raise TemplateError(f"invalid placeholder {{!{raw}}} at position {start}")
    return name, end + 1


def _scan_slots(text: str) -> Iterator[tuple[str, int, int]]:
    i = text.find(OPEN)
    while i >= 0:
        name, end = _read_slot(text, i)
        yield name, i, end
        i = text.find(OPEN, end)


__all__ = [
    "TemplateError",
    "UnknownPlaceholders",
    "as_text",
    "placeholders",
    "render_soql",
    "substitute",
]
