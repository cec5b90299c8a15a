"""A brief's text cut into beats: one per non-empty line, and a line of several sentences into its
sentences (English and Chinese punctuation).

Written here rather than with a sentence splitter library: the maintained ones either download
models at run time (NLTK's punkt, spaCy) or take one language per splitter (pysbd, unmaintained
since 2021), and a script mixes English and Chinese lines. The rules a script needs are few: end
at . ! ? followed by a space and the start of a new sentence, or at 。！？ anywhere; not after an
abbreviation ("Mr.", "U.S.") or an initial; closing quotes and brackets stay with their sentence.
"""

from __future__ import annotations

import re

# Words that end with a full stop without ending the sentence (compared lower-case, without the stop).
ABBREVIATIONS = frozenset("""
    mr mrs ms dr prof sr jr st mt ft rev gen col lt capt sgt gov sen rep pres supt insp det cllr
    vs etc e.g i.e a.m p.m no nos approx dept est inc ltd co corp bros jan feb mar apr jun jul aug
    sep sept oct nov dec u.s u.k u.n e.u
""".split())

_CLOSERS = "\"'”’»)）」』】〕》"
# A Latin sentence end: . ! ? (or an ellipsis), closing quotes/brackets, then space and what starts a sentence.
_LATIN_END = re.compile(rf"(?<=[.!?…])[{_CLOSERS}]*(?=\s+[\"'“‘«(（]*[A-Z0-9\u00c0-\u024f\u2e80-\u9fff])")
# A Chinese/Japanese full stop, exclamation or question mark ends a sentence wherever it is.
_CJK_END = re.compile(rf"[。！？]+[{_CLOSERS}]*")
_WORD_BEFORE_STOP = re.compile(r"([\w.]+)\.$")


def beats_split(text: str) -> list[str]:
    """The beats of a brief, in order: its non-empty lines, each cut at its sentence ends."""
    beats = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            beats.extend(sentence for sentence in _sentences(line) if sentence)
    return beats


def _sentences(line: str) -> list[str]:
    pieces = []
    for part in _cut(line, _CJK_END):
        pieces.extend(_latin_sentences(part))
    return [piece.strip() for piece in pieces]


def _cut(text: str, ends: re.Pattern) -> list[str]:
    parts, start = [], 0
    for match in ends.finditer(text):
        parts.append(text[start:match.end()])
        start = match.end()
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def _latin_sentences(text: str) -> list[str]:
    parts, start = [], 0
    for match in _LATIN_END.finditer(text):
        if _ends_in_abbreviation(text[start:match.start()]):
            continue
        parts.append(text[start:match.end()])
        start = match.end()
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def _ends_in_abbreviation(sentence: str) -> bool:
    """Whether the full stop that ends `sentence` belongs to an abbreviation or an initial ("J. Smith")."""
    word = _WORD_BEFORE_STOP.search(sentence.rstrip(_CLOSERS))
    if word is None:
        return False
    token = word.group(1)
    return token.lower() in ABBREVIATIONS or (len(token) == 1 and token.isupper())
