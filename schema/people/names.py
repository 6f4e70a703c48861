"""A person's name as search and the duplicate check compare it: one key for the name in
kanji, one for its reading in kana, each of the family and given names run together.

What is made the same:

- width: full-width letters and digits become half-width, half-width katakana full-width
  (`jaconv.normalize`, which is Unicode NFKC plus its dash and wave-dash rules: ～ and
  the dashes of a typed long vowel become ー); NFKC also turns CJK compatibility
  ideographs (神 U+FA19) into their unified characters;
- kana: hiragana become katakana (`jaconv.hira2kata`), so やまだ matches ヤマダ;
- old and variant kanji: the old forms of the 常用漢字表 (文化庁; 國 → 国, 澤 → 沢,
  邊 → 辺, 齋 → 斎 …) and the variants common in names (髙 → 高, 﨑 → 崎, 𠮷 → 吉),
  from the tables of `joyokanji` (`variants=True`);
- spacing: every space (half- or full-width) is dropped, and with it the boundary between
  family and given name (山田 太郎 = 山田太郎);
- variation selectors (U+FE00–FE0F, U+E0100–E01EF), which choose a glyph, not a
  character, are dropped; Latin letters are case-folded.

What is not: readings are not derived from kanji (search matches the kanji key or the
kana key, each as typed); distinct characters stay distinct even where people confuse
them (斉/斎, 辺/邉 beyond the table's 邊, ヨ/ョ, ヴ/ブ, ヅ/ズ, オウ/オー); a variant
that the tables do not list stays as it is. A change to these rules changes the stored
keys: it needs a migration that computes them again (0016 wrote the first ones).
"""

from __future__ import annotations

import re

import jaconv
import joyokanji

_SPACES_AND_SELECTORS = re.compile(r"[\s\ufe00-\ufe0f\U000e0100-\U000e01ef]+")


def name_key(*parts: str) -> str:
    """The normalised key of a name given in `parts` (family, given), as stored and searched."""
    text = jaconv.normalize("".join(parts), "NFKC")
    text = _SPACES_AND_SELECTORS.sub("", text)
    return joyokanji.convert(jaconv.hira2kata(text), variants=True).casefold()
