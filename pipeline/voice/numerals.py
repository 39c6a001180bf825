"""Numbers as words in English and Italian: cardinals, ordinals, decimals and years.

Written here rather than taken from num2words, whose licence (LGPL-2.1) the house rule keeps out
of reelforge's process; two languages need only these tables. English is American (no "and"
after hundreds: "one hundred five"); Italian joins a number's words as it is written
("milleduecentonovantanove", "ventitré") and spaces only millions and above.
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "cardinal", "decimal", "ordinal", "year"]

LANGUAGES = ("en", "it")
_LIMIT = 10**15  # beyond the trillions nobody reads a number aloud in an ad

_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_ORDINAL = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

_IT_ONES = [
    "zero",
    "uno",
    "due",
    "tre",
    "quattro",
    "cinque",
    "sei",
    "sette",
    "otto",
    "nove",
    "dieci",
    "undici",
    "dodici",
    "tredici",
    "quattordici",
    "quindici",
    "sedici",
    "diciassette",
    "diciotto",
    "diciannove",
]
_IT_TENS = [
    "_",
    "_",
    "venti",
    "trenta",
    "quaranta",
    "cinquanta",
    "sessanta",
    "settanta",
    "ottanta",
    "novanta",
]
_IT_SCALES = ((10**12, "bilione", "bilioni"), (10**9, "miliardo", "miliardi"),
              (10**6, "milione", "milioni"))  # fmt: skip
_IT_ORDINAL = [
    "_",
    "primo",
    "secondo",
    "terzo",
    "quarto",
    "quinto",
    "sesto",
    "settimo",
    "ottavo",
    "nono",
    "decimo",
]


def _check(n: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"no number words for language {language!r}")
    if abs(n) >= _LIMIT:
        raise ValueError(f"{n} is too large to read aloud")


def cardinal(n: int, language: str) -> str:
    """``24`` → "twenty-four" / "ventiquattro"; negative numbers start with minus / meno."""
    _check(n, language)
    if n < 0:
        return f"{'minus' if language == 'en' else 'meno'} {cardinal(-n, language)}"
    return _en_cardinal(n) if language == "en" else _it_cardinal(n)


def _en_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_EN_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif rest or not hundreds:
        words.append(_EN_ONES[rest])
    return " ".join(words)


def _en_cardinal(n: int) -> str:
    words: list[str] = []
    for size, name in _EN_SCALES:
        count, n = divmod(n, size)
        if count:
            words.append(f"{_en_below_1000(count)} {name}")
    if n or not words:
        words.append(_en_below_1000(n))
    return " ".join(words)


def _it_below_100(n: int) -> str:
    if n < 20:
        return _IT_ONES[n]
    tens, ones = divmod(n, 10)
    word = _IT_TENS[tens]
    if ones in (1, 8):  # venti + uno → ventuno, venti + otto → ventotto
        word = word[:-1]
    return word + (_IT_ONES[ones] if ones else "")


def _it_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = "" if not hundreds else "cento" if hundreds == 1 else f"{_IT_ONES[hundreds]}cento"
    if not rest:
        return head or "zero"
    tail = _it_below_100(rest)
    if head and tail.startswith("o"):  # cento + ottanta → centottanta
        head = head[:-1]
    return head + tail


def _it_group(n: int) -> str:
    """Below a million, written as one word: 1299 → milleduecentonovantanove."""
    thousands, rest = divmod(n, 1000)
    head = (
        "" if not thousands else "mille" if thousands == 1 else f"{_it_below_1000(thousands)}mila"
    )
    if not rest:
        return head or "zero"
    return head + _it_below_1000(rest)


def _accent(word: str) -> str:
    """A compound ending in "tre" takes the accent: ventitré, centotré, milletré."""
    return word[:-3] + "tré" if word.endswith("tre") and word != "tre" else word


def _it_cardinal(n: int) -> str:
    words: list[str] = []
    for size, one, many in _IT_SCALES:
        count, n = divmod(n, size)
        if count:
            words.append(f"un {one}" if count == 1 else f"{_it_cardinal(count)} {many}")
    if n or not words:
        words.append(_accent(_it_group(n)))
    return " ".join(words)


def ordinal(n: int, language: str, *, feminine: bool = False) -> str:
    """``21`` → "twenty-first" / "ventunesimo" (``feminine``: "ventunesima", Italian only)."""
    _check(n, language)
    if n <= 0:
        raise ValueError(f"no ordinal for {n}")
    if language == "en":
        words = _en_cardinal(n)
        cut = max(words.rfind(" "), words.rfind("-")) + 1
        last = words[cut:]
        if last in _EN_ORDINAL:
            last = _EN_ORDINAL[last]
        elif last.endswith("y"):
            last = last[:-1] + "ieth"
        else:
            last += "th"
        return words[:cut] + last
    word = _IT_ORDINAL[n] if n <= 10 else _it_ordinal_suffix(_it_cardinal(n))
    return word[:-1] + "a" if feminine else word


def _it_ordinal_suffix(words: str) -> str:
    """undici → undicesimo, ventitré → ventitreesimo, ventisei → ventiseiesimo."""
    if words.endswith("tré"):
        return words[:-1] + "eesimo"
    if words.endswith("sei"):
        return words + "esimo"
    if words.endswith(("un milione", "un miliardo")):
        return words.removeprefix("un ").replace(" ", "") + "esimo"
    return words.replace(" ", "")[:-1] + "esimo"


def decimal(whole: int, fraction: str, language: str) -> str:
    """``3`` and ``"14"`` → "three point one four" / "tre virgola quattordici".

    English reads the digits after the point one by one; Italian reads them as a number, after
    a "zero" for each leading zero ("1,05" → "uno virgola zero cinque").
    """
    if not fraction.isdigit():
        raise ValueError(f"{fraction!r} is not a run of digits")
    head = cardinal(whole, language)
    if language == "en":
        return f"{head} point " + " ".join(_EN_ONES[int(d)] for d in fraction)
    zeros = len(fraction) - len(fraction.lstrip("0"))
    rest = fraction[zeros:]
    tail = ["zero"] * zeros + ([cardinal(int(rest), "it")] if rest else [])
    return f"{head} virgola " + " ".join(tail)


def year(n: int, language: str) -> str:
    """A year as people say it: 1998 → "nineteen ninety-eight", 2026 → "twenty twenty-six",
    2005 → "two thousand five"; in Italian a year is its cardinal ("duemilaventisei")."""
    _check(n, language)
    if language == "it" or not (1100 <= n <= 2099) or 2000 <= n <= 2009:
        return cardinal(n, language)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{_en_below_1000(high)} hundred"
    if low < 10:
        return f"{_en_below_1000(high)} oh {_EN_ONES[low]}"
    return f"{_en_below_1000(high)} {_en_below_1000(low)}"
