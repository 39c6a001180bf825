"""What the normaliser says for symbols, currencies, units and abbreviations, per language.

One ``Lexicon`` per language that ``pipeline.voice.normalisation`` reads in full (English and
Italian); the others keep their text as written, less emoji and symbols (their voice, eSpeak NG,
reads digits itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["LEXICONS", "Currency", "Lexicon", "Unit"]


@dataclass(frozen=True)
class Currency:
    one: str  # "dollar", "euro"
    many: str  # "dollars", "euro"
    cent: str  # "cent", "centesimo"
    cents: str  # "cents", "centesimi"
    feminine: bool = False  # Italian: "una sterlina"
    decimal: bool = True  # has cents (not the yen)


@dataclass(frozen=True)
class Unit:
    one: str
    many: str


def _frozen(mapping: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(mapping)


@dataclass(frozen=True)
class Lexicon:
    """A language's words for what is not a word: how its numbers are written and read aloud."""

    language: str
    decimal_mark: str  # "." in English, "," in Italian; the other mark groups thousands
    money_and: str  # joins whole and cents: "and" / "e"
    say_cents: bool  # "and ninety cents" (English) or just "e novanta" (Italian)
    plus: str
    minus: str
    percent: str
    percent_off: str  # "-20%" in an ad: "{n} percent off"
    number_sign: str  # "#1": "number one"
    range: str  # "2-3": "{a} to {b}"
    around_the_clock: str  # "24/7"
    at: str
    dot: str
    slash: str
    oclock: str  # "9:00" → "nine o'clock"; "" to say just the hour
    minutes_join: str  # "9:30" → "nine thirty" / "nove e trenta"
    year_cues: frozenset[str]  # words before a four-digit number that make it a year
    currencies: Mapping[str, Currency]
    units: Mapping[str, Unit]
    abbreviations: Mapping[str, str]  # lower case, with their dots
    symbols: Mapping[str, str]  # a word that is only this symbol
    halves: tuple[str, str] = ("half", "halves")
    titles: frozenset[str] = field(default=frozenset())  # before a name: their dot ends nothing
    detached_units: frozenset[str] = field(default=frozenset())  # "500 ml": units after a space

    def currency(self, sign: str) -> Currency | None:
        return self.currencies.get(sign) or self.currencies.get(sign.upper())

    def unit(self, name: str) -> Unit | None:
        return self.units.get(name) or self.units.get(name.lower())


_EN_CURRENCIES = {
    "$": Currency("dollar", "dollars", "cent", "cents"),
    "US$": Currency("dollar", "dollars", "cent", "cents"),
    "USD": Currency("dollar", "dollars", "cent", "cents"),
    "€": Currency("euro", "euros", "cent", "cents"),
    "EUR": Currency("euro", "euros", "cent", "cents"),
    "£": Currency("pound", "pounds", "penny", "pence"),
    "GBP": Currency("pound", "pounds", "penny", "pence"),
    "CHF": Currency("franc", "francs", "centime", "centimes"),
    "¥": Currency("yen", "yen", "", "", decimal=False),
    "JPY": Currency("yen", "yen", "", "", decimal=False),
}
_IT_CURRENCIES = {
    "$": Currency("dollaro", "dollari", "centesimo", "centesimi"),
    "US$": Currency("dollaro", "dollari", "centesimo", "centesimi"),
    "USD": Currency("dollaro", "dollari", "centesimo", "centesimi"),
    "€": Currency("euro", "euro", "centesimo", "centesimi"),
    "EUR": Currency("euro", "euro", "centesimo", "centesimi"),
    "£": Currency("sterlina", "sterline", "penny", "pence", feminine=True),
    "GBP": Currency("sterlina", "sterline", "penny", "pence", feminine=True),
    "CHF": Currency("franco", "franchi", "centesimo", "centesimi"),
    "¥": Currency("yen", "yen", "", "", decimal=False),
    "JPY": Currency("yen", "yen", "", "", decimal=False),
}


def _units(pairs: dict[str, tuple[str, str]]) -> Mapping[str, Unit]:
    return MappingProxyType({key: Unit(*names) for key, names in pairs.items()})


_EN_UNITS = _units({
    "ml": ("milliliter", "milliliters"), "cl": ("centiliter", "centiliters"),
    "l": ("liter", "liters"), "L": ("liter", "liters"),
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"), "km": ("kilometer", "kilometers"),
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "oz": ("ounce", "ounces"), "fl oz": ("fluid ounce", "fluid ounces"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "in": ("inch", "inches"), "ft": ("foot", "feet"),
    "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"),
    "sec": ("second", "seconds"),
    "mAh": ("milliamp hour", "milliamp hours"), "W": ("watt", "watts"),
    "kW": ("kilowatt", "kilowatts"), "V": ("volt", "volts"), "Hz": ("hertz", "hertz"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"), "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"), "x": ("time", "times"), "×": ("time", "times"),
})  # fmt: skip
_IT_UNITS = _units({
    "ml": ("millilitro", "millilitri"), "cl": ("centilitro", "centilitri"),
    "l": ("litro", "litri"), "L": ("litro", "litri"),
    "mm": ("millimetro", "millimetri"), "cm": ("centimetro", "centimetri"),
    "m": ("metro", "metri"), "km": ("chilometro", "chilometri"),
    "mg": ("milligrammo", "milligrammi"), "g": ("grammo", "grammi"), "kg": ("chilo", "chili"),
    "h": ("ora", "ore"), "min": ("minuto", "minuti"), "sec": ("secondo", "secondi"),
    "mAh": ("milliampere ora", "milliampere ora"), "W": ("watt", "watt"),
    "kW": ("kilowatt", "kilowatt"), "V": ("volt", "volt"), "Hz": ("hertz", "hertz"),
    "MB": ("megabyte", "megabyte"), "GB": ("gigabyte", "gigabyte"),
    "TB": ("terabyte", "terabyte"), "km/h": ("chilometro orario", "chilometri orari"),
    "°C": ("grado", "gradi"), "°": ("grado", "gradi"), "x": ("volta", "volte"),
    "×": ("volta", "volte"),
})  # fmt: skip

_EN_ABBREVIATIONS = _frozen({
    "e.g.": "for example", "eg.": "for example", "i.e.": "that is", "etc.": "et cetera",
    "vs.": "versus", "vs": "versus", "approx.": "approximately", "incl.": "including",
    "excl.": "excluding", "w/": "with", "w/o": "without", "max.": "maximum",
    "dr.": "Doctor", "mr.": "Mister", "mrs.": "Missus", "ms.": "Miz", "jr.": "Junior",
    "pcs": "pieces", "pcs.": "pieces", "qty": "quantity", "qty.": "quantity",
    "a.m.": "A M", "p.m.": "P M",
})  # fmt: skip
_IT_ABBREVIATIONS = _frozen({
    "es.": "per esempio", "p.es.": "per esempio", "ecc.": "eccetera", "etc.": "eccetera",
    "ca.": "circa", "sig.": "signor", "sig.ra": "signora", "dott.": "dottor",
    "dott.ssa": "dottoressa", "prof.": "professor", "nr.": "numero", "pz": "pezzi",
    "pz.": "pezzi", "max.": "massimo", "min.": "minimo", "tel.": "telefono", "vs": "contro",
    "vs.": "contro", "tot.": "totale", "incl.": "incluso",
})  # fmt: skip

LEXICONS: Mapping[str, Lexicon] = MappingProxyType({
    "en": Lexicon(
        language="en", decimal_mark=".", money_and="and", say_cents=True, plus="plus",
        minus="minus", percent="percent", percent_off="{n} percent off",
        number_sign="number", range="{a} to {b}", around_the_clock="twenty-four seven",
        at="at", dot="dot", slash="slash", oclock="o'clock", minutes_join="",
        year_cues=frozenset({"in", "since", "from", "of", "by", "until", "till", "circa",
                             "est.", "established", "founded", "year", "summer", "winter",
                             "spring", "fall", "autumn", "class"}),
        currencies=MappingProxyType(_EN_CURRENCIES), units=_EN_UNITS,
        abbreviations=_EN_ABBREVIATIONS,
        symbols=_frozen({"&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent",
                         "×": "times"}),
        halves=("half", "halves"),
        titles=frozenset({"dr.", "mr.", "mrs.", "ms."}),
        detached_units=frozenset({"ml", "cl", "l", "L", "mm", "cm", "m", "km", "mg", "g", "kg",
                                  "oz", "lb", "lbs", "ft", "hr", "hrs", "min", "mins", "sec",
                                  "mAh", "W", "kW", "V", "Hz", "MB", "GB", "TB", "mph", "km/h",
                                  "°C", "°F"}),
    ),
    "it": Lexicon(
        language="it", decimal_mark=",", money_and="e", say_cents=False, plus="più",
        minus="meno", percent="per cento", percent_off="meno {n} per cento",
        number_sign="numero", range="{a} o {b}",
        around_the_clock="ventiquattro ore su ventiquattro", at="chiocciola", dot="punto",
        slash="slash", oclock="", minutes_join="e", year_cues=frozenset(),
        currencies=MappingProxyType(_IT_CURRENCIES), units=_IT_UNITS,
        abbreviations=_IT_ABBREVIATIONS,
        symbols=_frozen({"&": "e", "+": "più", "=": "uguale", "@": "chiocciola",
                         "%": "per cento", "×": "per"}),
        halves=("mezzo", "mezzi"),
        titles=frozenset({"sig.", "sig.ra", "dott.", "dott.ssa", "prof."}),
        detached_units=frozenset({"ml", "cl", "l", "L", "mm", "cm", "m", "km", "mg", "g", "kg",
                                  "h", "min", "sec", "mAh", "W", "kW", "V", "Hz", "MB", "GB",
                                  "TB", "km/h", "°C"}),
    ),
})  # fmt: skip
