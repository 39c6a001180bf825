"""What to ask Pexels for a scene: a short stock-search query from its text, the orientation of
its format, shorter queries to fall back on, and the size filter its files must cover.

Search parameters (``query``, ``orientation=landscape|portrait|square``, ``size=large|medium|
small``), from https://www.pexels.com/api/documentation/#videos-search.
"""

from __future__ import annotations

import re
from typing import Literal

from pipeline.formats import Format, FormatSpec

__all__ = [
    "Orientation",
    "fallback_queries",
    "orientation_for",
    "search_size",
    "search_terms",
]

Orientation = Literal["portrait", "landscape", "square"]

_ORIENTATION: dict[Format, Orientation] = {
    Format.V9X16: "portrait",
    Format.V4X5: "portrait",
    Format.V1X1: "square",
    Format.V16X9: "landscape",
}


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Small on purpose: enough to turn a cinematic prompt or a voice-over line into a stock query.
_STOP_EN = _wordset(
    """a an the and or but nor of to in on at by for with from into onto over under up down out
    off as is are was were be been being it its this that these those there here your you our we
    my me i he she they them his her their what which who whom how when where why all any each
    every some more most other such no not only own same so than too very can will just should
    now then also about after before while during between through against again once new get
    gets make makes made keep keeps let lets one two three"""
)
_STOP_IT = _wordset(
    """il lo la i gli le un uno una di del dello della dei degli delle dell da dal dallo dalla dai
    dagli dalle dall in nel nello nella nei negli nelle nell con col su sul sullo sulla sui sugli
    sulle sull per tra fra a al allo alla ai agli alle all e ed o od ma che chi cui non si ci ne
    se come più meno molto molta molti molte tanto poco è sono era erano essere ha hanno avere
    questo questa questi queste quello quella quelli quelle tuo tua tuoi tue suo sua suoi sue
    nostro nostra vostro vostra loro mio mia ogni anche già ancora sempre mai qui qua lì là ora
    poi dopo prima senza sotto sopra dentro fuori fa fare"""
)
# Camera and lighting jargon of generative prompts: it describes the shot, not what is in it.
_JARGON = _wordset(
    """cinematic cinema film shot shots shoot closeup close macro wide medium tight angle angles
    dolly pan panning tilt zoom tracking orbit orbiting handheld push pull crane aerial drone
    camera lens bokeh depth field focus shallow sharp soft gentle slow slowly smooth motion
    moving movement light lighting lit backlit glow glowing golden hour rim studio
    background foreground frame framing composition scene style stylish aesthetic mood moody
    high quality detailed realistic photorealistic hyperrealistic resolution hd uhd
    vertical horizontal portrait landscape square format footage video clip product premium
    elegant beautiful stunning exact reference photo colour color grade tone tones plate
    abstract hero backdrop minimal generous empty space logo call action centre center"""
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Languages whose noun phrases put the head noun first ("tazza da espresso").
_HEAD_FIRST = frozenset({"it", "es", "fr", "pt", "ro", "ca"})


def orientation_for(fmt: Format) -> Orientation:
    """Pexels' orientation filter for a placement format."""
    return _ORIENTATION[fmt]


def _words(text: str) -> list[str]:
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if len(word) < 3 or word in _STOP_EN or word in _STOP_IT or word in _JARGON:
            continue
        if word.endswith("ly") and len(word) > 4:  # adverbs
            continue
        if word not in out:
            out.append(word)
    return out


def search_terms(text: str, *, product: str = "", locale: str = "en", max_words: int = 4) -> str:
    """A short stock-search query from a scene's text and its product's name.

    Only the subject of a generated prompt counts (``build_prompts`` puts the shot, light and
    grade after ``Camera:``); stop-words (English and Italian), camera jargon and adverbs go;
    first occurrences are kept in order. Up to ``max_words - 1`` scene words come first, then the
    product name's head noun (its last word, or its first in Romance languages: "Espresso *Cup*",
    "*Tazza* da espresso"): its other words are often a brand, which sends a stock search
    elsewhere ("Aurora"), so they only fill what is left.
    """
    product_words = _words(product)
    scene = [w for w in _words(text.split("Camera:", 1)[0]) if w not in product_words]
    if not product_words:
        return " ".join(scene[:max_words])
    head = product_words[0] if locale[:2].lower() in _HEAD_FIRST else product_words[-1]
    rest = [w for w in product_words if w != head]
    return " ".join([*scene[: max_words - 1], head, *rest][:max_words])


def search_size(spec: FormatSpec) -> str:
    """Pexels' ``size`` filter for a render of ``spec``."""
    # Pexels' minimum sizes: small is HD, medium Full HD; a full-size render wants Full HD.
    return "medium" if max(spec.width, spec.height) > 1280 else "small"


def fallback_queries(query: str) -> list[str]:
    """The query, then shorter ones (first two words, first word) when it finds nothing."""
    words = query.split()
    out: list[str] = []
    for q in (query, " ".join(words[:2]), words[0]):
        if q and q not in out:
            out.append(q)
    return out
