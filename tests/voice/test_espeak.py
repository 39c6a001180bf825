from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.voice import EspeakVoice, Speech, VoiceSynth, wav_duration

from .audio import assert_valid_speech, read_pcm, rms

EN = "Fresh coffee beans, roasted today and delivered to your door in two days!"
IT = "Caffè fresco, tostato oggi e consegnato a casa tua in due giorni: è l'ora!"


@pytest.fixture(scope="module")
def voice() -> VoiceSynth:
    return EspeakVoice()


def assert_valid(speech: Speech, text: str, out: Path) -> None:
    assert_valid_speech(speech, text, out, rate=22050)


@pytest.mark.parametrize(
    ("locale", "text", "expected_voice"),
    [("en", EN, "en-us"), ("en-GB", EN, "en"), ("it", IT, "it"), ("it-IT", IT, "it")],
)
def test_synthesizes_a_valid_wav_with_the_input_words(
    voice: VoiceSynth, tmp_path: Path, locale: str, text: str, expected_voice: str
) -> None:
    out = tmp_path / "line.wav"
    speech = voice.synthesize(text, locale=locale, out=out)
    assert_valid(speech, text, out)
    assert speech.voice == expected_voice


def test_punctuation_stays_attached_to_words(voice: VoiceSynth, tmp_path: Path) -> None:
    speech = voice.synthesize(IT, locale="it", out=tmp_path / "it.wav")
    assert speech.words[-1].text == "l'ora!"
    assert speech.words[1].text == "fresco,"


def test_a_pause_in_the_text_is_a_silent_gap_in_the_timings(
    voice: VoiceSynth, tmp_path: Path
) -> None:
    out = tmp_path / "pause.wav"
    speech = voice.synthesize("Wait for it. . . Now buy.", locale="en", out=out)
    # The unspoken dots join the word before them; the texts still give back the input.
    assert [w.text for w in speech.words] == ["Wait", "for", "it. . .", "Now", "buy."]
    samples, rate = read_pcm(out)
    it, now = speech.words[2], speech.words[3]
    assert now.start - it.end > 0.2
    assert rms(samples, rate, it.end, now.start) < 50  # silence inside the gap
    assert rms(samples, rate, now.start, now.start + 0.1) > 1000  # "Now" sounds at its start
    assert rms(samples, rate, it.start, it.end) > 1000
    assert speech.words[0].end == speech.words[1].start  # no pause, no gap


def test_word_lengths_follow_the_audio_not_an_estimate(voice: VoiceSynth, tmp_path: Path) -> None:
    out = tmp_path / "long.wav"
    speech = voice.synthesize("I extraordinarily love it", locale="en", out=out)
    short, long = speech.words[0], speech.words[1]
    assert long.end - long.start > 4 * (short.end - short.start)
    samples, rate = read_pcm(out)
    for word in speech.words:
        assert rms(samples, rate, word.start, word.end) > 1000
    # The last word ends where its sound stops: only silence after it.
    if speech.duration - speech.words[-1].end > 0.005:
        assert rms(samples, rate, speech.words[-1].end, speech.duration) < 50


def test_two_sentences_leave_a_gap(voice: VoiceSynth, tmp_path: Path) -> None:
    out = tmp_path / "two.wav"
    speech = voice.synthesize("Order now. Delivery is free.", locale="en", out=out)
    now, delivery = speech.words[1], speech.words[2]
    assert delivery.start - now.end > 0.15
    samples, rate = read_pcm(out)
    assert rms(samples, rate, now.end, delivery.start) < 50
    assert rms(samples, rate, delivery.start, delivery.start + 0.1) > 1000


def test_italian_and_english_voices_differ(voice: VoiceSynth, tmp_path: Path) -> None:
    text = "123 456"
    en = voice.synthesize(text, locale="en", out=tmp_path / "en.wav")
    it = voice.synthesize(text, locale="it", out=tmp_path / "it.wav")
    assert en.voice != it.voice
    # "one hundred and twenty-three" vs "centoventitré": the first number differs in length.
    en_first = en.words[0].end - en.words[0].start
    it_first = it.words[0].end - it.words[0].start
    assert abs(en_first - it_first) > 0.2


def test_explicit_voice_overrides_the_locale(voice: VoiceSynth, tmp_path: Path) -> None:
    speech = voice.synthesize("Ciao a tutti", locale="en", voice="it+f3", out=tmp_path / "a.wav")
    assert speech.voice == "it+f3"
    assert [w.text for w in speech.words] == ["Ciao", "a", "tutti"]


def test_faster_rate_gives_shorter_audio(voice: VoiceSynth, tmp_path: Path) -> None:
    durations = [
        voice.synthesize(EN, locale="en", out=tmp_path / f"{rate}.wav", rate=rate).duration
        for rate in (120, None, 300)
    ]
    slow, default, fast = durations
    assert slow > default * 1.2
    assert default > fast * 1.4


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"text": "Hello", "locale": "xx"}, "brand.locale"),
        ({"text": "Hello", "locale": "en-ZZ"}, "brand.locale"),
        ({"text": "Hello", "locale": "en", "voice": "no-such-voice"}, "voice.name"),
        ({"text": "Hello", "locale": "en", "voice": "en-us+no-such-variant"}, "voice.name"),
        ({"text": "Hello", "locale": "en", "voice": " "}, "voice.name"),
        ({"text": "", "locale": "en"}, "voice.text"),
        ({"text": " \n\t", "locale": "en"}, "voice.text"),
        ({"text": "... ?!", "locale": "en"}, "voice.text"),
        ({"text": "Hello", "locale": "en", "rate": 20}, "voice.rate"),
        ({"text": "Hello", "locale": "en", "rate": 1000}, "voice.rate"),
    ],
)
def test_bad_input_is_rejected_and_writes_nothing(
    voice: VoiceSynth, tmp_path: Path, kwargs: dict[str, str | int], where: str
) -> None:
    with pytest.raises(BadInput) as raised:
        voice.synthesize(out=tmp_path / "x.wav", **kwargs)  # type: ignore[arg-type]
    assert raised.value.where == where
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text",
    [
        'Price: 24,90 € (was 39.90) {"sale": true} C:\\deals\\today',
        "50% off — today only 😀🔥 #deal @brand <b>bold</b> & more",
        "tab\tand\nnewline and a\x00nul and \x07bell",
        "[[h@'loU]] $ ^ ~ | ` ''",
    ],
)
def test_awkward_text_does_not_crash(voice: VoiceSynth, tmp_path: Path, text: str) -> None:
    out = tmp_path / "awkward.wav"
    speech = voice.synthesize(text, locale="en", out=out)
    assert wav_duration(out) == pytest.approx(speech.duration)
    assert speech.words
    spoken = " ".join(w.text for w in speech.words).split()
    expected = text.replace("\x00", " ").replace("\x07", " ").split()
    assert spoken == expected


def test_writes_atomically_and_overwrites(voice: VoiceSynth, tmp_path: Path) -> None:
    out = tmp_path / "line.wav"
    out.write_bytes(b"stale")
    speech = voice.synthesize("Hello there", locale="en", out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.wav"]  # no temp file left
    assert wav_duration(out) == pytest.approx(speech.duration)


def test_concurrent_calls_do_not_mix(voice: VoiceSynth, tmp_path: Path) -> None:
    jobs = [(EN, "en"), (IT, "it")] * 3
    expected = [voice.synthesize(t, locale=loc, out=tmp_path / "ref.wav") for t, loc in jobs[:2]]
    barrier = threading.Barrier(2)

    def run(index: int) -> Speech:
        text, locale = jobs[index]
        if index < 2:
            barrier.wait(timeout=10)
        return voice.synthesize(text, locale=locale, out=tmp_path / f"{index}.wav")

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(len(jobs))))
    for index, speech in enumerate(results):
        text, _ = jobs[index]
        reference = expected[index % 2]
        assert_valid(speech, text, tmp_path / f"{index}.wav")
        assert speech.voice == reference.voice
        # eSpeak adds a little random jitter, so allow a few ms.
        assert speech.duration == pytest.approx(reference.duration, abs=0.05)
        for word, ref in zip(speech.words, reference.words, strict=True):
            assert word.start == pytest.approx(ref.start, abs=0.05)
