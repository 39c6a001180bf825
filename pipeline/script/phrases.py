"""Phrasing tables for the offline writer, English and Italian, each list longest first."""

# Placeholders: {name} {brand} {price} {feature} {Feature} {feature_l} {n} {desc} {step} {nth}.
# Italian lines avoid articles and adjectives agreeing with the product: its gender is unknown.

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ENERGETIC_TONES",
    "FEATURE_LEADS",
    "HOOKS",
    "LANGUAGE_RATES",
    "ORDINALS",
    "ROLE_LINES",
    "SHORT_CTA",
    "STEP_FALLBACK",
    "STEP_LINES",
    "TAG_HOOKS",
    "TAG_ROLE_LINES",
    "Lines",
]


class Lines(NamedTuple):
    """Candidate on-screen texts and voiceovers, each longest first; the writer takes the first
    that fits the slot's character limit or the scene's word budget."""

    os: tuple[str, ...]
    vo: tuple[str, ...]


def _l(os: tuple[str, ...] | str, *vo: str) -> Lines:
    return Lines((os,) if isinstance(os, str) else os, vo)


# Spoken words per second a voice delivers naturally in ads; Italian words are longer on average.
LANGUAGE_RATES: dict[str, float] = {"en": 2.5, "it": 2.3}

SHORT_CTA: dict[str, str] = {"en": "Shop now", "it": "Acquista ora"}

ENERGETIC_TONES: frozenset[str] = frozenset(
    {
        "playful", "bold", "energetic", "fun", "vibrant", "cheeky", "punchy", "lively", "upbeat",
        "giocoso", "giocosa", "audace", "energico", "energica", "vivace", "divertente",
        "frizzante", "grintoso", "grintosa",
    }
)  # fmt: skip

# HOOKS[lang][angle] = (first round, second round): options 7-8 reuse an angle with new words.
HOOKS: dict[str, dict[str, tuple[Lines, Lines]]] = {
    "en": {
        "benefit-led": (
            _l(("Meet {name}", "{name}"),
               "Meet {name}, made to make every day easier.", "Meet {name}.", "{name}."),
            _l(("Your new favourite: {name}", "{name}"),
               "Say hello to your new everyday favourite.", "Say hello to {name}.", "{name}."),
        ),
        "problem-led": (
            _l(("Still settling?", "Why settle?"),
               "Still settling for good enough?", "Why settle?"),
            _l(("Done compromising?",), "Done compromising? {name} is here.", "Done compromising?"),
        ),
        "feature-led": (
            _l(("{feature}", "{name}"), "{Feature}. That's {name}.", "{Feature}.", "{name}."),
            _l(("Built different",), "{name} is built different. Here's how.", "Built different."),
        ),
        "price-led": (
            _l(("{name} · {price}", "Only {price}"), "{name}, for just {price}.", "Just {price}."),
            _l(("{price} well spent", "{price}"), "This is what {price} gets you.", "{price}."),
        ),
        "proof-led": (
            _l(("By {brand}", "Made with care"),
               "{brand} made {name} for people who notice details.", "Made with care."),
            _l(("Why people choose {name}", "Why people choose it"),
               "Here's why people choose {name}.", "Here's why."),
        ),
        "curiosity-led": (
            _l(("Wait for it",), "You haven't seen anything like this.", "Wait for it."),
            _l(("Look closer",), "Look closer. This is {name}.", "Look closer."),
        ),
    },
    "it": {
        "benefit-led": (
            _l(("Ecco {name}", "{name}"),
               "Ecco {name}, per giornate più semplici.", "Ecco {name}.", "{name}."),
            _l(("Scopri {name}", "{name}"),
               "Scopri {name}: la tua routine cambia.", "Scopri {name}.", "{name}."),
        ),
        "problem-led": (
            _l(("Perché accontentarsi?",), "Perché accontentarsi? C'è {name}.",
               "Perché accontentarsi?"),
            _l(("Basta compromessi",), "Basta compromessi: arriva {name}.", "Basta compromessi."),
        ),
        "feature-led": (
            _l(("{feature}", "{name}"), "{Feature}. Ecco {name}.", "{Feature}.", "{name}."),
            _l(("Cura in ogni dettaglio",), "{name}: cura in ogni dettaglio. Guarda.",
               "Cura in ogni dettaglio."),
        ),
        "price-led": (
            _l(("{name} · {price}", "Solo {price}"), "{name}, a soli {price}.", "Solo {price}."),
            _l(("{price} ben spesi", "{price}"), "Ecco cosa ottieni con {price}.", "{price}."),
        ),
        "proof-led": (
            _l(("Firmato {brand}", "Fatto con cura"),
               "{brand} ha creato {name} per chi nota i dettagli.", "Fatto con cura."),
            _l(("Perché scegliere {name}", "Ecco perché"),
               "Ecco perché in tanti scelgono {name}.", "Ecco perché."),
        ),
        "curiosity-led": (
            _l(("Aspetta un attimo", "Aspetta"), "Non hai mai visto niente di simile.",
               "Aspetta un attimo."),
            _l(("Guarda meglio",), "Guarda meglio: ecco {name}.", "Guarda meglio."),
        ),
    },
}  # fmt: skip

# Templates tagged with one of these keys open with its hooks in the first round.
TAG_HOOKS: dict[str, dict[str, dict[str, Lines]]] = {
    "en": {
        "numbered": {
            "benefit-led": _l(("{n} reasons to love {name}", "{n} reasons to love it"),
                              "{n} reasons to love {name}.", "{n} reasons to love it."),
            "problem-led": _l(("{n} reasons to stop settling", "{n} reasons to switch"),
                              "{n} reasons to stop settling.", "{n} reasons to switch."),
            "feature-led": _l(("{n} things {name} does best", "{n} things it does best"),
                              "{n} things {name} does best.", "{n} things it does best."),
            "price-led": _l(("{n} reasons it's worth {price}", "{n} reasons it's worth it"),
                            "{n} reasons it's worth {price}.", "{n} reasons it's worth it."),
            "proof-led": _l(("{n} reasons people pick {name}", "{n} reasons people pick it"),
                            "{n} reasons people pick {name}.", "{n} reasons people pick it."),
            "curiosity-led": _l(("{n} things you didn't know", "{n} surprises"),
                                "{n} things you didn't know about {name}.", "{n} surprises."),
        },
        "ugc": {
            "benefit-led": _l(("POV: you found {name}", "POV: you found it"),
                              "Okay, I found {name} and I'm not going back.", "Okay, I found it."),
            "problem-led": _l(("Can we talk about this?", "Real talk"),
                              "Can we talk about how annoying this used to be?",
                              "Can we talk about this?"),
            "feature-led": _l(("Wait, it does WHAT?", "Wait, what?"),
                              "Wait, it does what? {Feature}?", "Wait, it does what?"),
            "price-led": _l(("Only {price}?!", "Wait, what?!"),
                            "Hold on, only {price}?", "Only {price}?"),
            "proof-led": _l(("Honest review:", "Honest take"),
                            "Honest review of {name}, let's go.", "Honest review, let's go."),
            "curiosity-led": _l(("You need to see this", "Look at this"),
                                "Stop scrolling, you need to see this.", "You need to see this."),
        },
        "urgency": {
            "benefit-led": _l(("Deal: {name}", "Today's deal"), "Today's deal: {name}.",
                              "Today's deal."),
            "problem-led": _l(("Don't miss this",), "Don't miss this one.", "Don't miss it."),
            "feature-led": _l(("{feature}, on sale", "On sale now"), "{Feature}, and it's on sale.",
                              "It's on sale."),
            "price-led": _l(("Now {price}", "Sale now on"), "{name}, now just {price}.",
                            "Now {price}."),
            "proof-led": _l(("Limited time",), "For a limited time only.", "Limited time."),
            "curiosity-led": _l(("Last chance",), "This is your last chance.", "Last chance."),
        },
    },
    "it": {
        "numbered": {
            "benefit-led": _l(("{n} motivi per amare {name}", "{n} buoni motivi"),
                              "{n} motivi per amare {name}.", "{n} buoni motivi."),
            "problem-led": _l(("{n} motivi per non accontentarti", "{n} motivi per cambiare"),
                              "{n} motivi per non accontentarti.", "{n} motivi per cambiare."),
            "feature-led": _l(("{n} cose che {name} fa meglio", "{n} punti di forza"),
                              "{n} cose che {name} fa meglio.", "{n} punti di forza."),
            "price-led": _l(("{n} motivi per cui vale {price}", "{n} motivi per cui vale"),
                            "{n} motivi per cui vale {price}.", "{n} motivi per cui vale."),
            "proof-led": _l(("{n} motivi per scegliere {name}", "{n} motivi per sceglierci"),
                            "{n} motivi per scegliere {name}.", "{n} motivi per sceglierci."),
            "curiosity-led": _l(("{n} cose che non sai su {name}", "{n} cose che non sai"),
                                "{n} cose che non sai su {name}.", "{n} cose che non sai."),
        },
        "ugc": {
            "benefit-led": _l(("POV: hai trovato {name}", "POV: la scoperta"),
                              "Ok, ho trovato {name} e non torno indietro.",
                              "Non torno indietro."),
            "problem-led": _l(("Parliamone?", "Parliamone"),
                              "Parliamo di quanto era scomodo prima?", "Parliamone."),
            "feature-led": _l(("Aspetta, fa COSA?", "Fa cosa?"),
                              "Aspetta, fa cosa? {Feature}?", "Aspetta, fa cosa?"),
            "price-led": _l(("Solo {price}?!", "Davvero?!"),
                            "Un attimo: solo {price}?", "Solo {price}?"),
            "proof-led": _l(("Recensione sincera:", "Parere sincero"),
                            "Recensione sincera di {name}, si parte.",
                            "Recensione sincera, si parte."),
            "curiosity-led": _l(("Devi vedere questa cosa", "Guarda qui"),
                                "Fermati, devi vedere questa cosa.", "Devi vedere questa cosa."),
        },
        "urgency": {
            "benefit-led": _l(("Offerta: {name}", "Offerta del giorno"),
                              "Offerta del giorno: {name}.", "Offerta del giorno."),
            "problem-led": _l(("Non perdertela",), "Questa non puoi perderla.", "Non perdertela."),
            "feature-led": _l(("{feature}, in offerta", "Ora in offerta"),
                              "{Feature}, e ora è in offerta.", "Ora in offerta."),
            "price-led": _l(("Ora a {price}", "Saldi in corso"), "{name}, ora a soli {price}.",
                            "Ora a {price}."),
            "proof-led": _l(("Solo per poco",), "Solo per poco tempo.", "Solo per poco."),
            "curiosity-led": _l(("Ultima occasione",), "È la tua ultima occasione.",
                                "Ultima occasione."),
        },
    },
}  # fmt: skip

# ROLE_LINES[lang][role]: alternative line sets; options and repeated slots take different sets.
ROLE_LINES: dict[str, dict[str, tuple[Lines, ...]]] = {
    "en": {
        "problem": (
            _l("Sound familiar?", "You want something that just works, every single day.",
               "You want something that just works.", "Sound familiar?"),
            _l("There's a better way", "Making do with less? There's a better way.",
               "There's a better way."),
            _l("Not anymore", "Settling for ordinary? Not anymore.", "Not anymore."),
            _l("Enough compromises", "Enough compromises, every single day.",
               "Enough compromises."),
        ),
        "solution": (
            _l(("Meet {name}", "{name}"), "{desc}", "That's why we made {name}.", "Meet {name}.",
               "{name}."),
            _l(("Enter {name}", "{name}"), "Enter {name} from {brand}.", "Enter {name}.",
               "{name}."),
            _l(("{name} by {brand}", "{name}"), "{brand} made {name} for exactly this.",
               "This is {name}.", "{name}."),
        ),
        "benefit": (
            _l("Made for every day", "Every day feels a little easier with {name}.",
               "Every day, a little easier."),
            _l("Feel the difference", "Once you try it, you feel the difference.",
               "Feel the difference."),
            _l("Less hassle, more life", "Less hassle, more time for what matters.",
               "Less hassle, more life."),
            _l("Built to last", "Built to last, so you can stop worrying.", "Built to last."),
        ),
        "proof": (
            _l(("Made by {brand}", "Made with care"), "{brand} puts care into every detail.",
               "Made with care."),
            _l(("The {brand} standard", "Quality first"), "{name} meets the {brand} standard.",
               "Quality first."),
            _l(("Why people choose {name}", "Why people choose it"),
               "People choose {name} for the details.", "Chosen for the details."),
            _l("See for yourself", "Don't take our word for it. See for yourself.",
               "See for yourself."),
        ),
        "offer": (
            _l(("Only {price}", "{price}"), "Get {name} for just {price}.", "Just {price}.",
               "{price}."),
            _l(("Now {price}", "{price}"), "All this for {price}.", "Only {price}.", "{price}."),
            _l(("Yours for {price}", "{price}"), "{name} can be yours for {price}.",
               "Yours for {price}.", "{price}."),
        ),
        "comparison": (
            _l(("Others vs {name}", "The difference"),
               "Others make you compromise. {name} doesn't.", "{name} doesn't compromise.",
               "No compromise."),
            _l(("Why switch to {name}", "Why switch"), "Here's why people switch to {name}.",
               "Here's why to switch."),
            _l("Side by side", "Put them side by side. {name} stands out.",
               "Side by side, it stands out."),
        ),
        "before": (
            _l(("Before {name}", "Before"), "Before {name}: the same old routine.",
               "The same old routine."),
            _l("The old way", "The old way: making do.", "Making do."),
            _l("Before", "This was every day before.", "Before."),
        ),
        "after": (
            _l(("After {name}", "After"), "After: everything just works.", "After."),
            _l("The new way", "The new way: {name}.", "The new way."),
            _l("After", "And now? Night and day.", "Night and day."),
        ),
        "reveal": (
            _l(("Unboxing {name}", "Unboxing"), "Let's open it up.", "Open it up."),
            _l("What's inside?", "So what's inside the box?", "What's inside?"),
            _l("First look", "First look at {name}.", "First look."),
        ),
    },
    "it": {
        "problem": (
            _l("Ti suona familiare?", "Vuoi qualcosa che funzioni davvero, ogni giorno.",
               "Vuoi qualcosa che funzioni.", "Ti suona familiare?"),
            _l("C'è un modo migliore", "Ti stai accontentando? C'è un modo migliore.",
               "C'è un modo migliore."),
            _l("Ora basta", "Accontentarsi del solito? Ora basta.", "Ora basta."),
            _l("Basta compromessi", "Basta compromessi, ogni singolo giorno.",
               "Basta compromessi."),
        ),
        "solution": (
            _l(("Ecco {name}", "{name}"), "{desc}", "Per questo abbiamo creato {name}.",
               "Ecco {name}.", "{name}."),
            _l(("Arriva {name}", "{name}"), "Arriva {name}, firmato {brand}.", "Arriva {name}.",
               "{name}."),
            _l(("{name} di {brand}", "{name}"), "{brand} ha creato {name} proprio per questo.",
               "Ecco {name}.", "{name}."),
        ),
        "benefit": (
            _l("Per ogni giorno", "Con {name} ogni giorno è un po' più semplice.",
               "Ogni giorno, più semplice."),
            _l("Senti la differenza", "Alla prima prova senti la differenza.",
               "Senti la differenza."),
            _l("Meno stress, più vita", "Meno stress, più tempo per ciò che conta.",
               "Meno stress, più vita."),
            _l("Qualità che dura", "Qualità che dura, senza pensieri.", "Qualità che dura."),
        ),
        "proof": (
            _l(("Firmato {brand}", "Fatto con cura"), "{brand} cura ogni dettaglio.",
               "Cura in ogni dettaglio."),
            _l(("Lo standard {brand}", "Qualità prima di tutto"),
               "{name} rispetta lo standard {brand}.", "Qualità prima di tutto."),
            _l(("Perché scegliere {name}", "Ecco perché"),
               "Chi sceglie {name} lo fa per i dettagli.", "Questione di dettagli."),
            _l("Giudica tu", "Non crederci sulla parola: giudica tu.", "Giudica tu."),
        ),
        "offer": (
            _l(("Solo {price}", "{price}"), "Porta a casa {name} a soli {price}.",
               "Solo {price}.", "{price}."),
            _l(("Ora {price}", "{price}"), "Tutto questo a {price}.", "Solo {price}.",
               "{price}."),
            _l(("A soli {price}", "{price}"), "{name} a soli {price}.", "A soli {price}.",
               "{price}."),
        ),
        "comparison": (
            _l(("Gli altri vs {name}", "La differenza"),
               "Gli altri ti chiedono compromessi. {name} no.",
               "{name} non scende a compromessi.", "Zero compromessi."),
            _l(("Perché passare a {name}", "Perché cambiare"), "Ecco perché passare a {name}.",
               "Ecco perché cambiare."),
            _l("Fianco a fianco", "Mettili a confronto: {name} fa la differenza.",
               "Fa la differenza."),
        ),
        "before": (
            _l(("Prima di {name}", "Prima"), "Prima di {name}: la solita routine.",
               "La solita routine."),
            _l("Il vecchio modo", "Il vecchio modo: arrangiarsi.", "Arrangiarsi."),
            _l("Prima", "Ogni giorno era così, prima.", "Prima."),
        ),
        "after": (
            _l(("Dopo {name}", "Dopo"), "Dopo: tutto funziona e basta.", "Dopo."),
            _l("Il nuovo modo", "Il nuovo modo: {name}.", "Il nuovo modo."),
            _l("Dopo", "E adesso? Tutta un'altra storia.", "Un'altra storia."),
        ),
        "reveal": (
            _l(("Unboxing di {name}", "Unboxing"), "Apriamo la scatola.", "Apriamo."),
            _l("Cosa c'è dentro?", "Allora, cosa c'è nella scatola?", "Cosa c'è dentro?"),
            _l("Primo sguardo", "Primo sguardo a {name}.", "Primo sguardo."),
        ),
    },
}  # fmt: skip

# Role lines that replace ROLE_LINES for templates with a tag; "offer@1" means the second and
# later offer slots (a price first, then the last call).
TAG_ROLE_LINES: dict[str, dict[tuple[str, str], tuple[Lines, ...]]] = {
    "en": {
        ("comparison", "problem"): (
            _l(("The usual option?", "The usual?"), "The usual option makes you compromise.",
               "The usual means compromise."),
            _l("Others?", "Others make you choose.", "Others? Not quite."),
        ),
        ("ugc", "solution"): (
            _l(("Then I found {name}", "Then I found this"), "Then I found {name}.",
               "Then I found this."),
            _l(("Enter {name}", "Enter this"), "And then {name} showed up.", "Then this."),
        ),
        ("urgency", "offer@1"): (
            _l("Ends soon", "The offer ends soon.", "Ends soon."),
            _l("While stocks last", "Only while stocks last.", "While stocks last."),
            _l("Don't wait", "Don't wait on this one.", "Don't wait."),
        ),
    },
    "it": {
        ("comparison", "problem"): (
            _l(("La solita scelta?", "Il solito?"),
               "La solita scelta ti costringe a compromessi.", "Il solito è un compromesso."),
            _l("Gli altri?", "Gli altri ti fanno scegliere.", "Gli altri? Non proprio."),
        ),
        ("ugc", "solution"): (
            _l(("Poi ho trovato {name}", "Poi ho trovato questo"), "Poi ho trovato {name}.",
               "Poi ho trovato questo."),
            _l(("Arriva {name}", "Poi, questo"), "E poi, {name}.", "Poi, questo."),
        ),
        ("urgency", "offer@1"): (
            _l("Finisce presto", "L'offerta finisce presto.", "Finisce presto."),
            _l("Fino a esaurimento", "Solo fino a esaurimento scorte.", "Fino a esaurimento."),
            _l("Non aspettare", "Non aspettare troppo.", "Non aspettare."),
        ),
    },
}  # fmt: skip

# How a feature scene's voiceover introduces its feature.
FEATURE_LEADS: dict[str, tuple[str, ...]] = {
    "en": ("{Feature}.", "Plus, {feature_l}.", "And yes: {feature_l}.",
           "On top of that, {feature_l}."),
    "it": ("{Feature}.", "In più, {feature_l}.", "E sì: {feature_l}.",
           "E non è tutto: {feature_l}."),
}  # fmt: skip

ORDINALS: dict[str, tuple[str, ...]] = {
    "en": ("one", "two", "three", "four", "five", "six", "seven"),
    "it": ("Primo", "Secondo", "Terzo", "Quarto", "Quinto", "Sesto", "Settimo"),
}

# How-to steps: a step shows one feature; {step} is the number, {nth} the spoken ordinal.
STEP_LINES: dict[str, Lines] = {
    "en": _l(("Step {step}: {feature}", "{step}. {feature}", "{feature}"),
             "Step {nth}: {feature_l}.", "{Feature}."),
    "it": _l(("Passo {step}: {feature}", "{step}. {feature}", "{feature}"),
             "{nth} passo: {feature_l}.", "{Feature}."),
}  # fmt: skip

# A step slot left over once every feature is shown.
STEP_FALLBACK: dict[str, Lines] = {
    "en": _l(("Step {step}: enjoy", "Enjoy"), "Step {nth}: enjoy it.", "Enjoy."),
    "it": _l(("Passo {step}: goditi il risultato", "Relax"), "{nth} passo: goditi il risultato.",
             "Goditi il risultato."),
}  # fmt: skip
