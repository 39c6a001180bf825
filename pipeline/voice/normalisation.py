"""Text normalisation: a script line rewritten as a voice should say it, per locale.

Prices and currencies ("$24.90" → "twenty-four dollars and ninety cents", "24,90 €" →
"ventiquattro euro e novanta"), numbers with their thousands and decimal marks, percentages,
units ("500 ml"), times, ranges, ordinals, abbreviations ("e.g."), web addresses and symbols are
spelled out; emoji and pictographs are not spoken. English and Italian are read in full; other
languages only lose their emoji and symbols (their voice reads digits itself).

The result is a :class:`SpokenText`: for each word as written, what is said for it, so the
captions keep the script's own words and take their times from the spoken ones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from pipeline.voice.lexicon import LEXICONS, Currency, Lexicon
from pipeline.voice.numerals import cardinal, decimal, ordinal, year
from pipeline.voice.spoken import SpokenText

__all__ = ["normalise", "unspoken"]

_LEAD = "([{\"'“‘«¿¡"
_TRAIL = ".,;:!?…)]}\"'”’»"
_SENTENCE_PUNCT = frozenset(".,;:!?…")
_NUM = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SIGN = r"[-−+]?"
_ORDINAL_EN = re.compile(r"^(\d+)(st|nd|rd|th)$", re.IGNORECASE)
_ORDINAL_IT = re.compile(r"^(\d+)([°ºª])$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)
_RANGE = re.compile(rf"^({_NUM})[-–]({_NUM})$")
_FRACTION = re.compile(r"^(\d{1,3})/(\d{1,3})$")
_NUMBER = re.compile(rf"^({_SIGN})({_NUM})$")
_NUMBER_UNIT = re.compile(rf"^({_NUM})([^\d\s.,][^\d\s]*)$")
_NUMBER_LETTERS = re.compile(r"^(\d+)([A-Z]{1,3})$")
_DECADE = re.compile(r"^(\d{2}|\d{4})s$")
_DIGITS = re.compile(_NUM)
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
_WEB = re.compile(
    r"^(?:https?://)?(?:www\.)?((?:[\w-]+\.)+(?:com|org|net|io|co|it|eu|uk|us|de|fr|es|shop|store|app|ai)"
    r"(?:/[\w./-]*)?)$",
    re.IGNORECASE,
)
# Not spoken: emoji and other pictographs, their joiners and variation selectors, keycaps,
# trademark signs, bullets and arrows.
_SILENT_CATEGORIES = frozenset({"So", "Sk", "Co", "Cn", "Cs", "Cf", "Me"})
_SILENT = frozenset("•·|→←↑↓➔►▶◀~^*_\\")
# "$3k", "€2.5M": the multiplier after a price.
_SCALES = {"k": 10**3, "K": 10**3, "M": 10**6, "m": 10**6, "mln": 10**6, "B": 10**9, "bn": 10**9,
           "mld": 10**9}  # fmt: skip


@dataclass(frozen=True)
class _Number:
    whole: int
    fraction: str  # the digits after the decimal mark; "" for a whole number

    @property
    def one(self) -> bool:
        return self.whole == 1 and not self.fraction


def unspoken(ch: str) -> bool:
    """Whether a character is left unsaid: emoji, pictographs, their modifiers, bullets."""
    if ch in _SILENT or 0xFE00 <= ord(ch) <= 0xFE0F:
        return True
    return unicodedata.category(ch) in _SILENT_CATEGORIES and ch not in "^`"


def _silenced(text: str) -> str:
    return "".join(ch for ch in text if not unspoken(ch))


def _parse(text: str, lex: Lexicon) -> _Number | None:
    """A written number, read with the locale's marks: the decimal mark is always decimal; the
    other one groups thousands when groups of three digits follow it, else it is a decimal mark
    written in another locale's way ("24.90" in an Italian line)."""
    digits = text.replace("\u00a0", "")
    marks = [ch for ch in digits if ch in ".,"]
    if not marks:
        return _Number(int(digits), "") if digits.isdigit() else None
    if len(set(marks)) == 2:
        point = digits.rfind(marks[-1])
        whole, fraction = digits[:point], digits[point + 1 :]
        return _Number(int(re.sub(r"[.,]", "", whole)), fraction)
    mark = marks[0]
    parts = digits.split(mark)
    grouped = all(len(p) == 3 for p in parts[1:]) and (len(marks) > 1 or mark != lex.decimal_mark)
    if grouped:
        return _Number(int("".join(parts)), "")
    if len(parts) != 2:
        return None
    return _Number(int(parts[0]), parts[1])


def _say_number(number: _Number, lex: Lexicon) -> str:
    if not number.fraction:
        return cardinal(number.whole, lex.language)
    return decimal(number.whole, number.fraction, lex.language)


def _counted(number: _Number, one: str, many: str, lex: Lexicon, *, feminine: bool = False) -> str:
    """A count and its noun: "one liter", "two liters", "un litro", "una sterlina"."""
    if number.one and lex.language == "it":
        return f"{'una' if feminine else 'un'} {one}"
    words = _say_number(number, lex)
    if lex.language == "it" and words.split()[-1] in ("milione", "milioni", "miliardo", "miliardi"):
        words += " di"  # "un milione di euro"
    return f"{words} {one if number.one else many}"


def _money(number: _Number, currency: Currency, lex: Lexicon, scale: str = "") -> str:
    if scale:
        number = _scaled(number, _SCALES[scale])
    if not currency.decimal or len(number.fraction) > 2:
        return _counted(number, currency.one, currency.many, lex, feminine=currency.feminine)
    cents = int(number.fraction.ljust(2, "0")) if number.fraction else 0
    whole = _Number(number.whole, "")
    if not cents:
        return _counted(whole, currency.one, currency.many, lex, feminine=currency.feminine)
    said_cents = _counted(_Number(cents, ""), currency.cent, currency.cents, lex)
    if not number.whole:
        return said_cents
    said = _counted(whole, currency.one, currency.many, lex, feminine=currency.feminine)
    tail = said_cents if lex.say_cents else cardinal(cents, lex.language)
    return f"{said} {lex.money_and} {tail}"


def _scaled(number: _Number, factor: int) -> _Number:
    """ "3k" is 3000, "2.5M" 2500000."""
    value = Decimal(f"{number.whole}.{number.fraction or '0'}") * factor
    whole = int(value)
    fraction = f"{value - whole:f}"[2:].rstrip("0") if value != whole else ""
    return _Number(whole, fraction)


def _signed(sign: str, said: str, lex: Lexicon) -> str:
    if sign in ("-", "−"):
        return f"{lex.minus} {said}"
    return f"{lex.plus} {said}" if sign == "+" else said


class _Reader:
    """Reads one line's written words, sometimes two at a time ("24,90 €", "500 ml")."""

    def __init__(self, words: list[str], lex: Lexicon) -> None:
        self.words = words
        self.lex = lex
        self._currency = re.compile(
            "|".join(re.escape(c) for c in sorted(lex.currencies, key=len, reverse=True))
        )

    def read(self) -> list[str]:
        said = [""] * len(self.words)
        i = 0
        while i < len(self.words):
            try:
                taken, text = self._pair(i) or (1, self._word(i))
            except ValueError:  # a number too large to read as one: its digits, one by one
                taken, text = 1, self._digits(self.words[i])
            said[i] = text
            if not text.strip():
                self._keep_pause(said, i)
            i += taken
        return said

    def _digits(self, word: str) -> str:
        def spell(run: re.Match[str]) -> str:
            start, end = run.span()
            left = " " if start and word[start - 1].isalnum() else ""
            right = " " if end < len(word) and word[end].isalnum() else ""
            digits = " ".join(cardinal(int(d), self.lex.language) for d in run.group())
            return left + digits + right

        said = re.sub(r"\d+", spell, word)
        for sign, currency in self.lex.currencies.items():
            if not sign.isalpha():
                said = said.replace(sign, f" {currency.many} ")
        return " ".join(_silenced(said).split())

    def _keep_pause(self, said: list[str], i: int) -> None:
        """An unspoken word's sentence punctuation ("Now 🛒.") goes to the word said before it."""
        _, _, trail = _split(self.words[i])
        pause = "".join(ch for ch in trail if ch in _SENTENCE_PUNCT)
        before = next((j for j in range(i - 1, -1, -1) if said[j].strip()), None)
        if pause and before is not None and said[before][-1] not in _SENTENCE_PUNCT:
            said[before] += pause

    def _pair(self, i: int) -> tuple[int, str] | None:
        """Two written words read as one: a price with a detached currency, a number and its
        unit, a time and am/pm."""
        if i + 1 >= len(self.words):
            return None
        lead, first, gap = _split(self.words[i])
        _, second, trail = _split(self.words[i + 1])
        if gap or not first or not second:
            return None
        lex = self.lex
        said: str | None = None
        number = _parse(first, lex) if re.fullmatch(_NUM, first) else None
        currency = lex.currency(second)
        if number is not None and currency is not None:
            said = _money(number, currency, lex)
        elif (prefix := lex.currency(first)) is not None and re.fullmatch(_NUM, second):
            amount = _parse(second, lex)
            said = None if amount is None else _money(amount, prefix, lex)
        elif number is not None and second == "%":
            said = f"{_say_number(number, lex)} {lex.percent}"
        elif number is not None and second in lex.detached_units:
            unit = lex.unit(second)
            said = None if unit is None else _counted(number, unit.one, unit.many, lex)
        elif _TIME.match(first) and second.lower() in ("am", "pm", "a.m.", "p.m."):
            said = self._time(_TIME.match(first + second.lower()))
        if said is None:
            return None
        return 2, lead + said + trail

    def _word(self, i: int) -> str:
        word = self.words[i]
        abbreviation = self._abbreviation(i)
        if abbreviation is not None:
            return abbreviation
        lead, core, trail = _split(word)
        if not core:
            return "" if not _silenced(word).strip() else word
        said = self._core(core, i)
        return lead + said + trail if said.strip() else ""

    def _abbreviation(self, i: int) -> str | None:
        word = self.words[i]
        lead = len(word) - len(word.lstrip(_LEAD))
        body = word[lead:].rstrip(",;:!?)]}\"'”’»")
        said = self.lex.abbreviations.get(body.lower())
        if said is None:
            return None
        tail = word[lead + len(body) :]
        following = self.words[i + 1] if i + 1 < len(self.words) else ""
        title = body.lower() in self.lex.titles and bool(following)
        if body.endswith(".") and (not following or following[:1].isupper()) and not (tail or title):
            tail = "."  # its dot also ended the sentence
        return word[:lead] + said + tail

    def _core(self, core: str, i: int) -> str:
        lex = self.lex
        for read in (self._symbol, self._price, self._percent, self._ordinal, self._time_word,
                     self._decade, self._measure, self._range, self._fraction, self._handle, self._web):  # fmt: skip
            said = read(core)
            if said is not None:
                return said
        plain = _NUMBER.match(core)
        if plain:
            number = _parse(plain.group(2), lex)
            if number is not None:
                return _signed(plain.group(1), self._plain(number, plain.group(2), i), lex)
        letters = _NUMBER_LETTERS.match(core)
        if letters:
            return f"{cardinal(int(letters.group(1)), lex.language)} {' '.join(letters.group(2))}"
        return self._mixed(core)

    def _plain(self, number: _Number, written: str, i: int) -> str:
        before = self.words[i - 1].lower().strip(_LEAD + _TRAIL) if i else ""
        is_year = written.isdigit() and len(written) == 4 and before in self.lex.year_cues
        return year(number.whole, self.lex.language) if is_year else _say_number(number, self.lex)

    def _symbol(self, core: str) -> str | None:
        if core in self.lex.symbols:
            return self.lex.symbols[core]
        currency = self.lex.currency(core) if not core.isalpha() else None
        return currency.many if currency is not None else None

    def _price(self, core: str) -> str | None:
        cur = self._currency.pattern
        scales = "|".join(re.escape(s) for s in sorted(_SCALES, key=len, reverse=True))
        before = re.fullmatch(rf"({_SIGN})({cur})\s?({_NUM})({scales})?", core)
        after = re.fullmatch(rf"({_SIGN})({_NUM})({scales})?\s?({cur})", core)
        if before:
            sign, sym, amount, scale = before.groups()
        elif after:
            sign, amount, scale, sym = after.groups()
        else:
            return None
        number = _parse(amount, self.lex)
        currency = self.lex.currency(sym)
        if number is None or currency is None:
            return None
        return _signed(sign, _money(number, currency, self.lex, scale or ""), self.lex)

    def _percent(self, core: str) -> str | None:
        found = re.fullmatch(rf"({_SIGN})({_NUM})\s?%", core)
        number = _parse(found.group(2), self.lex) if found else None
        if found is None or number is None:
            return None
        amount = _say_number(number, self.lex)
        if found.group(1) in ("-", "−"):
            return self.lex.percent_off.format(n=amount)
        return _signed(found.group(1), f"{amount} {self.lex.percent}", self.lex)

    def _ordinal(self, core: str) -> str | None:
        lang = self.lex.language
        found = (_ORDINAL_EN if lang == "en" else _ORDINAL_IT).match(core)
        if found is None or int(found.group(1)) == 0:
            return None
        if found.group(2) == "°" and int(found.group(1)) > 10:
            return None  # "30°" is a temperature; "1°" the first
        return ordinal(int(found.group(1)), lang, feminine=found.group(2) == "ª")

    def _time_word(self, core: str) -> str | None:
        found = _TIME.match(core)
        if found is None or (found.group(2) is None and found.group(3) is None):
            return None
        return self._time(found)

    def _time(self, found: re.Match[str] | None) -> str | None:
        if found is None:
            return None
        hour, minutes, half = int(found.group(1)), found.group(2), found.group(3)
        lex = self.lex
        if hour > 24 or (minutes is not None and int(minutes) > 59):
            return None
        said = cardinal(hour, lex.language)
        if minutes is not None and int(minutes):
            mins = int(minutes)
            tail = (
                cardinal(mins, lex.language)
                if mins >= 10 or lex.language == "it"
                else (f"oh {cardinal(mins, 'en')}")
            )
            said = " ".join(w for w in (said, lex.minutes_join, tail) if w)
        elif half is None and lex.oclock:
            said += f" {lex.oclock}"
        if half is not None:
            said += " A M" if half.lower().startswith("a") else " P M"
        return said

    def _decade(self, core: str) -> str | None:
        """ "90s" → "nineties", "1990s" → "nineteen nineties" (English)."""
        found = _DECADE.match(core)
        if found is None or self.lex.language != "en" or int(found.group(1)) % 10:
            return None
        said = year(int(found.group(1)), "en")
        return said[:-1] + "ies" if said.endswith("y") else said + "s"

    def _measure(self, core: str) -> str | None:
        found = _NUMBER_UNIT.match(core)
        if found is None:
            return None
        unit = self.lex.unit(found.group(2))
        number = _parse(found.group(1), self.lex)
        if unit is None or number is None:
            return None
        return _counted(number, unit.one, unit.many, self.lex)

    def _range(self, core: str) -> str | None:
        found = _RANGE.match(core)
        if found is None:
            return None
        low, high = _parse(found.group(1), self.lex), _parse(found.group(2), self.lex)
        if low is None or high is None:
            return None
        return self.lex.range.format(a=_say_number(low, self.lex), b=_say_number(high, self.lex))

    def _fraction(self, core: str) -> str | None:
        if core == "24/7":
            return self.lex.around_the_clock
        found = _FRACTION.match(core)
        if found is None:
            return None
        top, bottom = int(found.group(1)), int(found.group(2))
        if not 2 <= bottom <= 100 or top == 0:
            return None
        lang = self.lex.language
        if bottom == 2:
            half, halves = self.lex.halves
            noun = half if top == 1 else halves
        else:
            noun = ordinal(bottom, lang)
            if top != 1:
                noun = noun + "s" if lang == "en" else noun[:-1] + "i"
            if bottom == 4 and lang == "en":
                noun = "quarter" if top == 1 else "quarters"
        count = ("one" if lang == "en" else "un") if top == 1 else cardinal(top, lang)
        return f"{count} {noun}"

    def _handle(self, core: str) -> str | None:
        if re.fullmatch(r"#\d+", core):
            return f"{self.lex.number_sign} {cardinal(int(core[1:]), self.lex.language)}"
        if re.fullmatch(r"#\w+", core):
            return core[1:]
        if re.fullmatch(r"@\w+", core):
            return f"{self.lex.at} {core[1:]}"
        return None

    def _web(self, core: str) -> str | None:
        if _EMAIL.match(core):
            name, _, domain = core.partition("@")
            return f"{self._address(name)} {self.lex.at} {self._address(domain)}"
        found = _WEB.match(core)
        return self._address(found.group(1).rstrip("/")) if found else None

    def _address(self, text: str) -> str:
        text = text.replace(".", f" {self.lex.dot} ").replace("/", f" {self.lex.slash} ")
        return self._mixed(text)

    def _mixed(self, core: str) -> str:
        """Any other word: unspoken characters dropped, "&" said, numbers inside it spelled."""
        text = _silenced(core).replace("&", f" {self.lex.symbols['&']} ")

        def spell(found: re.Match[str]) -> str:
            number = _parse(found.group(), self.lex)
            if number is None:
                return found.group()
            start, end = found.span()
            left = " " if start and text[start - 1].isalnum() else ""
            right = " " if end < len(text) and text[end].isalnum() else ""
            return left + _say_number(number, self.lex) + right

        text = _DIGITS.sub(spell, text)
        return " ".join(text.split())


def _split(word: str) -> tuple[str, str, str]:
    """Leading punctuation, the word itself, trailing punctuation: '("$24.90!")' →
    ('("', '$24.90', '!")')."""
    lead = len(word) - len(word.lstrip(_LEAD))
    core = word[lead:].rstrip(_TRAIL)
    trail = word[lead + len(core) :]
    return word[:lead], core, trail


def normalise(text: str, locale: str) -> SpokenText:
    """``text`` as the voice for ``locale`` should say it, word by written word."""
    words = text.split()
    lex = LEXICONS.get(locale.strip().replace("_", "-").lower().split("-")[0])
    if lex is None:
        spoken = [" ".join(_silenced(w).split()) for w in words]
    else:
        spoken = _Reader(words, lex).read()
    return SpokenText(written=tuple(words), spoken=tuple(spoken))
