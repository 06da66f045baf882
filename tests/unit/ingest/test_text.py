"""HTML stripping, name splitting, email validation."""

from __future__ import annotations

import html
import random

import pytest

from ingest_service.domain.text import (
    _BLANK_LINES,
    _LINE_BREAK_TAG,
    _MARKUP,
    _SPACE_AROUND_NEWLINE,
    _SPACES,
    clean_line,
    split_name,
    strip_html,
    valid_email,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain text", "plain text"),
        ("  padded  ", "padded"),
        ("<b>Hi</b>, a <i>quote</i>?", "Hi, a quote?"),
        ("line one<br>line two<br/>line three", "line one\nline two\nline three"),
        ("<p>one</p><p>two</p>", "one\ntwo"),
        ("Tom &amp; Jerry &lt;3 &quot;x&quot;", 'Tom & Jerry <3 "x"'),
        ("a < b and c > d", "a < b and c > d"),
        ("keep 1<2", "keep 1<2"),
        ("x<!-- hidden -->y", "xy"),
        ("cut <!-- never closed", "cut"),
        ('<a href="https://x.test">link</a>', "link"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("too    many\t\tspaces", "too many spaces"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("&nbsp;nbsp&nbsp;", "nbsp"),
        ("<script>alert(1)</script>", "alert(1)"),
        ("", ""),
    ],
)
def test_html_becomes_plain_text(html: str, text: str) -> None:
    assert strip_html(html) == text


def test_stripping_is_linear_on_hostile_input() -> None:
    # Many unclosed tags and comments: a backtracking pattern would take minutes here.
    unclosed_tags = "<a" * 100_000 + "&" * 100_000
    assert strip_html(unclosed_tags) == unclosed_tags
    unclosed_comments = "x" + "<!--" * 100_000
    assert strip_html(unclosed_comments) == "x"


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Jo Bloggs", "Jo", "Bloggs"),
        ("  Mary  Ann   Smith ", "Mary Ann", "Smith"),
        ("Cher", None, "Cher"),
        ("   ", None, None),
        (None, None, None),
    ],
)
def test_names_split_with_a_single_word_as_the_last_name(
    name: str | None, first: str | None, last: str | None
) -> None:
    assert split_name(name) == (first, last)


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        (" Jo.Bloggs@Example.COM ", "jo.bloggs@example.com"),
        ("x@y.co", "x@y.co"),
        ("not an email", None),
        ("a@b", None),
        ("two@@x.co", None),
        ("", None),
        (None, None),
        ("a" * 80 + "@x.co", None),  # longer than Salesforce's Email field
    ],
)
def test_emails_are_trimmed_lower_cased_and_validated(raw: str | None, email: str | None) -> None:
    assert valid_email(raw) == email


def test_one_line_values_collapse_whitespace() -> None:
    assert clean_line(" Bloggs \n Ltd\t") == "Bloggs Ltd"
    assert clean_line(" \n ") is None


def test_the_passes_skipped_when_they_change_nothing_are_not_missed() -> None:
    # The reference: every pass, always (the clean-up before its fast paths).
    def reference(text: str) -> str:
        if "<" in text:
            text = _MARKUP.sub("", _LINE_BREAK_TAG.sub("\n", text))
        elif "&" not in text and "  " not in text and not any(c in text for c in "\n\r\t"):
            return text.strip()
        if "&" in text:
            text = html.unescape(text)
        text = _SPACES.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
        text = _SPACE_AROUND_NEWLINE.sub("\n", text)
        return _BLANK_LINES.sub("\n\n", text).strip()

    pieces = ["<b>", "<br>", "</p>", "<!--", "&amp;", "&nbsp;", "&", "<", ">", " ", "  ", "\n"]
    pieces += ["\r\n", "\r", "\t", "\xa0", "\u2003", "\x1c", "\x0b", "a", "é", " \n", "\n "]
    rnd = random.Random(7)
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert strip_html(text) == reference(text), text
