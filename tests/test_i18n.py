"""The language negotiation and the message catalogue (platform/i18n.py)."""

from __future__ import annotations

import dataclasses

import pytest

from kizuna.platform.i18n import DEFAULT, Language, Message, Text, negotiate

JA, EN = Language.JA, Language.EN


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, JA),
        ("", JA),
        ("ja", JA),
        ("ja-JP", JA),
        ("en", EN),
        ("en-US", EN),
        ("EN-gb", EN),  # tags are case-insensitive
        ("en-US,en;q=0.9,ja;q=0.8", EN),  # a browser set to English first
        ("ja,en-US;q=0.9,en;q=0.8", JA),  # a browser set to Japanese first
        ("en;q=0.5,ja", JA),  # the weight decides, not the order
        ("en, ja", EN),  # equal weights: the first written
        ("ja-JP, en-US", JA),
        ("fr", JA),  # neither: the default
        ("fr,en;q=0.1", EN),  # English is acceptable, Japanese is not named
        ("zh-CN,zh;q=0.9,en;q=0.8", EN),
        ("*", JA),  # anything: the default
        ("ja;q=0,*", EN),  # Japanese refused, the rest accepted
        ("*;q=0.5,en;q=0.1", JA),  # `*` weighs Japanese above the named English
        ("en;q=0", JA),  # nothing acceptable: the default
        ("en;q=0.000", JA),
        ("en ; q=0.8", EN),  # whitespace around the parameter
        ("en;Q=1.0", EN),
        ("en;q=1.", EN),
        ("en-US;q=0.9,en;q=0,ja;q=0.5", EN),  # the highest English range counts
    ],
)
def test_negotiate(header: str | None, language: Language) -> None:
    assert negotiate(header) is language


@pytest.mark.parametrize(
    "header",
    [
        "en;q=2",  # a weight above 1
        "en;q=0.5000",  # four decimals
        "en;q=-1",
        "en;q=abc",
        "en;level=1",  # Accept-Language has no other parameters
        "en_US",  # an underscore is not a tag's
        "english-language-tag",  # a subtag of more than 8 letters
        ";;,,",
        "en\x00",
        "ja" * 50,
    ],
)
def test_a_malformed_element_is_skipped_and_the_default_stands(header: str) -> None:
    assert negotiate(header) is DEFAULT
    assert negotiate(f"{header},en") is EN  # the other elements still count


def test_the_default_is_japanese() -> None:
    assert DEFAULT is JA


def test_text_has_a_field_for_every_language_and_nothing_else() -> None:
    assert {f.name for f in dataclasses.fields(Text)} == {language.value for language in Language}


@pytest.mark.parametrize("message", list(Message), ids=lambda m: m.name)
def test_every_message_has_both_texts_with_the_same_placeholders(message: Message) -> None:
    text: Text = message.value
    for language in Language:
        assert text.in_(language).strip(), f"{message.name} has no {language.value} text"
    assert text.placeholders(JA) == text.placeholders(EN)


@pytest.mark.parametrize("message", list(Message), ids=lambda m: m.name)
def test_the_japanese_texts_are_japanese(message: Message) -> None:
    """No English left in by mistake: every Japanese text holds Japanese script."""
    ja = message.value.ja
    assert any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in ja), ja


def test_placeholders_are_filled() -> None:
    assert Message.SUBJECT_LENGTH.in_(JA, max=255) == "利用者の識別子は、表示できる文字で1〜255文字にしてください。"
    assert Message.SUBJECT_LENGTH.in_(EN, max=255) == "The subject must be 1 to 255 printable characters."
