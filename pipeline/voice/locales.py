"""Which eSpeak NG voice speaks each brand locale, and the speaking-rate bounds."""

from __future__ import annotations

from pipeline.errors import BadInput

__all__ = ["DEFAULT_RATE", "MAX_RATE", "MIN_RATE", "VOICE_BY_LOCALE", "check_rate", "voice_for"]

# Keys are lower-case BCP 47 tags; values are eSpeak NG voice identifiers that
# espeak_SetVoiceByName accepts (files under espeak-ng-data/lang/). eSpeak's "en"
# is British English; ads default to American English, hence "en" -> "en-us".
VOICE_BY_LOCALE: dict[str, str] = {
    "en": "en-us",
    "en-us": "en-us",
    "en-gb": "en",
    "it": "it",
    "it-it": "it",
    "it-ch": "it",
    "es": "es",
    "es-es": "es",
    "es-mx": "es-419",
    "es-us": "es-419",
    "es-ar": "es-419",
    "es-co": "es-419",
    "fr": "fr",
    "fr-fr": "fr",
    "fr-ca": "fr",
    "fr-be": "fr-be",
    "fr-ch": "fr-ch",
    "de": "de",
    "de-de": "de",
    "de-at": "de",
    "de-ch": "de",
    "pt": "pt",
    "pt-pt": "pt",
    "pt-br": "pt-br",
}

# espeakRATE_NORMAL and the range eSpeak NG honours without its "sonic" speed-up.
DEFAULT_RATE = 175
MIN_RATE = 80
MAX_RATE = 450


def voice_for(locale: str) -> str:
    """The eSpeak voice for a brand locale such as "it" or "en-US"."""
    key = locale.strip().replace("_", "-").lower()
    try:
        return VOICE_BY_LOCALE[key]
    except KeyError:
        known = ", ".join(sorted(VOICE_BY_LOCALE))
        raise BadInput("brand.locale", f"no voice for locale {locale!r} (known: {known})") from None


def check_rate(rate: int | None) -> int:
    """Words per minute to use: the engine default for None, else `rate` if in range."""
    if rate is None:
        return DEFAULT_RATE
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadInput("voice.rate", f"{rate} words per minute is outside {MIN_RATE}-{MAX_RATE}")
    return rate
