"""hibari's acoustic model with its phoneme durations exposed, loaded once per process.

hibari-tts (Apache-2.0) ships its default voice in the wheel: an ONNX graph that turns
phoneme ids into spectra, and a G2P that needs neither spaCy nor eSpeak. The graph predicts how
long each phoneme lasts (the integer tensor its duration expansion sums with CumSum) but does
not return it; this module adds that tensor to the graph's outputs when it loads the model, so
every word's time comes from the model's own alignment rather than from an estimate.

One ONNX Runtime thread: a line is a few hundred milliseconds of work, and one thread keeps the
arithmetic, hence the audio, the same on every run.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.errors import BadInput, StageError

__all__ = [
    "FRAME_SECONDS",
    "SAMPLE_RATE",
    "UNIT_SECONDS",
    "Acoustics",
    "HibariModel",
    "bundled_voices",
    "hibari_model",
]

SAMPLE_RATE = 24000
FRAME_SECONDS = 300 / SAMPLE_RATE  # one spectral frame: the inverse STFT's hop
UNIT_SECONDS = 2 * FRAME_SECONDS  # one duration unit: the graph expands each unit to two frames


@dataclass(frozen=True)
class Acoustics:
    """One model run: the audio and how many duration units each input id lasted."""

    audio: npt.NDArray[np.float32]  # mono, 24 kHz, in [-1, 1]
    units: npt.NDArray[np.int64]  # one per input id, pads included


def bundled_voices() -> tuple[str, ...]:
    """hibari's voices that ship inside its wheel (the others are downloads, never made)."""
    from hibari.voices import VOICES

    return tuple(name for name, info in VOICES.items() if info.get("bundled"))


def _with_durations(path: str) -> tuple[bytes, str]:
    """The graph at ``path`` serialized with its duration tensor as one more output."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(path)
    cumsums = [node for node in model.graph.node if node.op_type == "CumSum"]
    if len(cumsums) != 1:
        raise StageError("voice", f"hibari's graph has {len(cumsums)} CumSum nodes, expected 1")
    durations = cumsums[0].input[0]
    model.graph.output.append(helper.make_tensor_value_info(durations, TensorProto.INT64, None))
    return model.SerializeToString(), durations


class HibariModel:
    """The ONNX session (with durations), the vocabulary and the G2P of one hibari voice."""

    def __init__(self, voice: str) -> None:
        import onnxruntime as ort
        from hibari import dsp
        from hibari.g2p import G2P
        from hibari.tts import ASSETS
        from hibari.voices import VOICES, voice_path

        if voice not in bundled_voices():
            raise BadInput(
                "voice.name",
                f"hibari voice {voice!r} is not in the package (offline voices: "
                f"{', '.join(bundled_voices())})",
            )
        path = voice_path(voice, download_missing=False)
        graph, self._durations = _with_durations(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._dsp: Any = dsp
        self.vocab: dict[str, int] = json.loads(
            (Path(ASSETS) / "vocab.json").read_text(encoding="utf-8")
        )
        self._g2p: Any = G2P(british=bool(VOICES[voice]["british"]))
        self._g2p_lock = threading.Lock()  # the G2P is plain Python with no promise of safety
        self.voice = voice

    def tokens(self, text: str) -> list[Any]:
        """hibari's G2P tokens of ``text`` (``.text``, ``.whitespace``, ``.phonemes``), read as
        written: the text is normalised before it gets here."""
        with self._g2p_lock:
            return list(self._g2p.phonemize_tokens(self._g2p.tokenize(text)))

    def run(self, ids: list[int], speed: float, rng: np.random.Generator) -> Acoustics:
        """Audio and durations for phoneme ``ids`` (with the 0 pad at both ends)."""
        outputs = self._session.run(
            None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
        )
        spectra, units = outputs[:6], np.asarray(outputs[6], dtype=np.int64).reshape(-1)
        frames = spectra[0].shape[-1]
        if units.shape[0] != len(ids) or 2 * int(units.sum()) != frames:
            raise StageError("voice", "hibari's durations do not add up to its frames")
        audio = self._dsp.synth(*(part[0] for part in spectra), rng)
        return Acoustics(audio=np.asarray(audio, dtype=np.float32), units=units)


@functools.lru_cache(maxsize=4)
def hibari_model(voice: str) -> HibariModel:
    """The process's one model of ``voice``, loaded on first use (about a second)."""
    return HibariModel(voice)
