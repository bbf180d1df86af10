"""Search tokens for Chinese (and mixed) text, the same on every backend.

Neither backend tokenises Chinese usefully: SQLite FTS5's default tokenizer takes a run of Han
characters as one token, its trigram tokenizer misses two-character words, and FerretDB v1 has
no ``$text``. So we tokenise ourselves and let the backends only match whole tokens:

* text is NFKC-normalised (full-width Ａ１ become A1) and case-folded;
* a run of CJK characters yields its characters and its character bigrams (市卫生局 ->
  市 卫 生 局 市卫 卫生 生局), so any one- or two-character word is found without a dictionary;
* a run of other letters and digits yields itself as one word (ABC-123 -> abc, 123).

A query yields the bigrams of its CJK runs (a single character yields itself) and its words;
a document matches when it holds every query token. Longer words are found as overlapping
bigrams, which may rarely match bigrams that occur apart; that is the usual bigram trade-off.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

# Han (with extensions and compatibility ideographs), kana and Hangul: scripts written without
# spaces between words, so bigrams stand in for words.
_CJK = (
    "\u3005\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    norm = unicodedata.normalize("NFKC", text).casefold()
    for m in _RUNS.finditer(norm):
        cjk, word = m.groups()
        if cjk:
            yield True, cjk
        else:
            yield False, word


def index_tokens(text: str) -> set[str]:
    """Every token under which ``text`` can be found."""
    out: set[str] = set()
    for is_cjk, run in _runs(text):
        if is_cjk:
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(run)
    return out


def query_tokens(text: str) -> list[str]:
    """The tokens a document must all hold to match ``text``, deduplicated, in query order."""
    out: dict[str, None] = {}
    for is_cjk, run in _runs(text):
        if is_cjk and len(run) > 1:
            # Bigrams imply the characters, so unigrams would add nothing but work.
            out.update((run[i : i + 2], None) for i in range(len(run) - 1))
        else:
            out[run] = None
    return list(out)


def _strings_at(doc: Mapping[str, Any], path: str) -> Iterator[str]:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return
        node = node[part]
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, list | tuple):
            stack.extend(item)


def document_tokens(doc: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    """Sorted tokens of the strings (or lists of strings) at ``fields`` of ``doc``."""
    out: set[str] = set()
    for path in fields:
        for s in _strings_at(doc, path):
            out |= index_tokens(s)
    return sorted(out)
