"""Text normalisation per locale: what each voice is given to say for a script line."""

from __future__ import annotations

import pytest

from pipeline.voice import SpokenText, WordTiming, normalise
from pipeline.voice.numerals import cardinal, ordinal, year

EN = [
    # prices and currencies (the issue: "$24.90" was read "dollar twenty four point nine zero")
    ("$24.90", "twenty-four dollars and ninety cents"),
    ("Only $5!", "Only five dollars!"),
    ("$1", "one dollar"),
    ("$0.99", "ninety-nine cents"),
    ("€1,299.99", "one thousand two hundred ninety-nine euros and ninety-nine cents"),
    ("£3.50", "three pounds and fifty pence"),
    ("$3k", "three thousand dollars"),
    ("¥500", "five hundred yen"),
    # numbers
    ("1,299", "one thousand two hundred ninety-nine"),
    ("3.14", "three point one four"),
    ("-5", "minus five"),
    ("1st", "first"),
    ("22nd", "twenty-second"),
    ("#1", "number one"),
    ("2-3 days", "two to three days"),
    ("9:30", "nine thirty"),
    ("5 pm", "five P M"),
    ("since 1998", "since nineteen ninety-eight"),
    ("in 2005", "in two thousand five"),
    ("the 90s", "the nineties"),
    ("iPhone 15", "iPhone fifteen"),
    # percentages and units
    ("Save 30%!", "Save thirty percent!"),
    ("-20%", "twenty percent off"),
    ("500 ml", "five hundred milliliters"),
    ("2kg", "two kilograms"),
    ("1 L", "one liter"),
    ("50°C", "fifty degrees Celsius"),
    ("2x faster", "two times faster"),
    ("24/7", "twenty-four seven"),
    # abbreviations and symbols
    ("e.g. soap", "for example soap"),
    ("Dr. Smith", "Doctor Smith"),
    ("salt & pepper", "salt and pepper"),
    ("hello@shop.com", "hello at shop dot com"),
    ("www.shop.com/sale", "shop dot com slash sale"),
    # emoji and symbols are not spoken
    ("🔥 Hot deal 🔥", "Hot deal"),
    ("Buy now 🛒.", "Buy now."),
    ("★★★★★ rated", "rated"),
    ("✓ Free • fast", "Free fast"),
    ("Love it ❤️👍🏽", "Love it"),
    ("Just $24.90 today 🎉", "Just twenty-four dollars and ninety cents today"),
]

IT = [
    ("24,90 €", "ventiquattro euro e novanta"),
    ("€24,90", "ventiquattro euro e novanta"),
    ("24,90€", "ventiquattro euro e novanta"),
    ("1.299,99 €", "milleduecentonovantanove euro e novantanove"),
    ("0,99 €", "novantanove centesimi"),
    ("1 €", "un euro"),
    ("£1", "una sterlina"),
    ("1.000.000 €", "un milione di euro"),
    ("1.299", "milleduecentonovantanove"),
    ("3,14", "tre virgola quattordici"),
    ("21 giorni", "ventuno giorni"),
    ("103", "centotré"),
    ("2ª", "seconda"),
    ("9:30", "nove e trenta"),
    ("dal 1998", "dal millenovecentonovantotto"),
    ("100% naturale", "cento per cento naturale"),
    ("-20%", "meno venti per cento"),
    ("500 ml", "cinquecento millilitri"),
    ("2 kg", "due chili"),
    ("1,5 litri", "uno virgola cinque litri"),
    ("3x", "tre volte"),
    ("24/7", "ventiquattro ore su ventiquattro"),
    ("es. sapone", "per esempio sapone"),
    ("Sig. Rossi", "signor Rossi"),
    ("ecc.", "eccetera."),
    ("🔥 Offerta 🔥", "Offerta"),
    ("Compra ora 🛒.", "Compra ora."),
]


@pytest.mark.parametrize(("written", "spoken"), EN)
def test_english(written: str, spoken: str) -> None:
    assert normalise(written, "en-US").text == spoken


@pytest.mark.parametrize(("written", "spoken"), IT)
def test_italian(written: str, spoken: str) -> None:
    assert normalise(written, "it-IT").text == spoken


def test_a_number_too_large_to_read_is_read_digit_by_digit() -> None:
    assert normalise("Code 12345678901234567!", "en").text == (
        "Code one two three four five six seven eight nine zero one two three four five six seven!"
    )
    assert normalise("$99999999999999999", "it").text.startswith("dollari nove nove")


def test_other_languages_only_lose_emoji_and_symbols() -> None:
    assert normalise("¡Hola 🔥 amigos ★!", "es").text == "¡Hola amigos !"
    assert normalise("Precio 5 €", "es").text == "Precio 5 €"  # eSpeak reads its own digits


def test_each_written_word_keeps_what_is_said_for_it() -> None:
    line = normalise("Now $24.90 🎉 at 24,90", "en")
    assert line.written == ("Now", "$24.90", "🎉", "at", "24,90")
    assert line.spoken[1] == "twenty-four dollars and ninety cents"
    assert line.spoken[2] == ""
    assert line.owners()[:3] == [0, 1, 1]


def test_a_detached_currency_belongs_to_its_number() -> None:
    line = normalise("Solo 24,90 € oggi", "it")
    assert line.spoken == ("Solo", "ventiquattro euro e novanta", "", "oggi")


def test_written_words_take_the_times_of_their_spoken_words() -> None:
    line = normalise("🔥 Only $5 ✨", "en")  # the emoji say nothing: they join a word
    said = line.text.split()
    assert said == ["Only", "five", "dollars"]
    timings = [WordTiming(text=w, start=i * 0.5, end=i * 0.5 + 0.4) for i, w in enumerate(said)]
    written = line.written_timings(timings)
    assert [w.text for w in written] == ["🔥 Only", "$5 ✨"]
    assert (written[1].start, written[1].end) == (0.5, 1.4)
    assert " ".join(w.text for w in written) == "🔥 Only $5 ✨"


def test_timings_that_do_not_match_are_kept_as_spoken() -> None:
    line = normalise("Only $5", "en")
    odd = (WordTiming(text="Only", start=0.0, end=0.3),)
    assert line.written_timings(odd) == odd


def test_spoken_forms_must_match_the_written_words() -> None:
    with pytest.raises(ValueError, match="spoken form"):
        SpokenText(written=("a", "b"), spoken=("a",))


@pytest.mark.parametrize(
    ("n", "en", "it"),
    [
        (0, "zero", "zero"),
        (18, "eighteen", "diciotto"),
        (21, "twenty-one", "ventuno"),
        (88, "eighty-eight", "ottantotto"),
        (100, "one hundred", "cento"),
        (183, "one hundred eighty-three", "centottantatré"),
        (1000, "one thousand", "mille"),
        (2026, "two thousand twenty-six", "duemilaventisei"),
        (1_000_000, "one million", "un milione"),
        (2_500_000, "two million five hundred thousand", "due milioni cinquecentomila"),
    ],
)
def test_cardinals(n: int, en: str, it: str) -> None:
    assert (cardinal(n, "en"), cardinal(n, "it")) == (en, it)


def test_ordinals_and_years() -> None:
    assert [ordinal(n, "en") for n in (1, 2, 3, 12, 20, 101)] == [
        "first", "second", "third", "twelfth", "twentieth", "one hundred first",
    ]  # fmt: skip
    assert [ordinal(n, "it") for n in (1, 11, 23, 26)] == [
        "primo", "undicesimo", "ventitreesimo", "ventiseiesimo",
    ]  # fmt: skip
    assert ordinal(3, "it", feminine=True) == "terza"
    assert [year(n, "en") for n in (1998, 1900, 1905, 2005, 2026)] == [
        "nineteen ninety-eight", "nineteen hundred", "nineteen oh five", "two thousand five",
        "twenty twenty-six",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="too large"):
        cardinal(10**16, "en")
