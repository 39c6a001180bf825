"""eSpeak NG's helper program: speaks one line in a process of its own and exits.

libespeak-ng is GPL-3.0 and reelforge is Apache-2.0, so the library is never loaded into
reelforge's process: ``pipeline.voice.espeak`` runs this file as a separate program, hands it
``{"text", "voice", "rate", "pcm"}`` as JSON on stdin, and reads back ``{"sample_rate",
"words"}`` (the raw samples go to the file ``pcm``). A fresh process per line also makes the
speech deterministic: the library keeps state (its echo buffer) from one call to the next.

This file imports only the standard library and the espeakng-loader wheel (run with ``python
-I``, it never imports reelforge). Exit codes: 0 spoken; 2 bad input ({"where", "problem"} on
stdout); 1 the engine failed (the reason on stderr).
"""

from __future__ import annotations

import ctypes
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import espeakng_loader

# Constants from espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EE_OK = 0


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    )


class _Event(ctypes.Structure):
    """espeak_EVENT: six ints, a pointer (offset 24 on 64-bit), an 8-byte union; 40 bytes."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, counted in characters even for UTF-8 input
        ("length", ctypes.c_int),  # characters
        ("audio_position", ctypes.c_int),  # ms since the start of this espeak_Synth call
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),  # word events: the word's ordinal number
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True)
class _Word:
    """An espeakEVENT_WORD: where the word is in the text and when its sound starts."""

    position: int  # 0-based character index into the text
    length: int
    start: float  # seconds


@dataclass(frozen=True, slots=True)
class RawSpeech:
    pcm: bytes  # mono, native-endian int16
    sample_rate: int
    words: tuple[_Word, ...]


class _Engine:
    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int)
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = (
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        )
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = ()
        lib.espeak_Synchronize.restype = ctypes.c_int

        path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, path, _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise _Failed(f"espeak_Initialize failed ({rate})")
        self._lib = lib
        self.sample_rate: int = rate
        self._pcm: list[bytes] = []
        self._words: list[_Word] = []
        # The library keeps only the C pointer: hold the thunk so it is never collected.
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(
        self,
        wav: ctypes._Pointer[ctypes.c_short],
        count: int,
        events: ctypes._Pointer[_Event],
    ) -> int:
        # Runs inside espeak_Synth on the calling thread; must not raise (ctypes would
        # only print the error), so it just copies data out.
        if count > 0:
            self._pcm.append(ctypes.string_at(wav, count * ctypes.sizeof(ctypes.c_short)))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_WORD:
                self._words.append(
                    _Word(event.text_position - 1, event.length, event.audio_position / 1000)
                )
            i += 1
        return 0  # 0 = keep synthesizing

    def run(self, text: str, voice: str, rate: int) -> RawSpeech:
        if self._lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise _BadInput("voice.name", f"eSpeak NG has no voice {voice!r}")
        if self._lib.espeak_SetParameter(_PARAM_RATE, rate, 0) != _EE_OK:
            raise _Failed(f"eSpeak NG rejected rate {rate}")
        self._pcm, self._words = [], []
        data = text.encode("utf-8") + b"\0"
        status = self._lib.espeak_Synth(
            data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self._lib.espeak_Synchronize()
        if status != _EE_OK:
            raise _Failed(f"espeak_Synth failed ({status})")
        raw = RawSpeech(b"".join(self._pcm), self.sample_rate, tuple(self._words))
        self._pcm, self._words = [], []
        return raw


class _BadInput(Exception):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where, self.problem = where, problem


class _Failed(Exception):
    pass


def main() -> int:
    """One request on stdin, the samples to its ``pcm`` file, the timings on stdout."""
    request = json.loads(sys.stdin.read())
    try:
        raw = _Engine().run(str(request["text"]), str(request["voice"]), int(request["rate"]))
    except _BadInput as exc:
        print(json.dumps({"where": exc.where, "problem": exc.problem}))
        return 2
    except _Failed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    Path(request["pcm"]).write_bytes(raw.pcm)
    words = [asdict(w) for w in raw.words]
    print(json.dumps({"sample_rate": raw.sample_rate, "words": words}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
