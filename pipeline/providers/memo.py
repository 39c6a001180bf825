"""Work that costs CPU rather than money, kept in the provider cache by content: the palette of
the same photos and the offline voice's line for the same text are made once, whatever render,
job or project asks again.

Both wrap a port's adapter and keep its contract: the cached answer is exactly what the adapter
returned the first time (a palette; a WAV copied to ``out`` with its word timings). The key holds
reelforge's version, so an upgrade that changes an engine's output does not reuse the old one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from pipeline import __version__
from pipeline.palette import PaletteExtractor
from pipeline.palette.model import Palette
from pipeline.providers.cache import ProviderCache, cache_key
from pipeline.voice import Speech, VoiceSynth

__all__ = ["MemoPalette", "MemoVoice"]

_PROVIDER = "reelforge"


def _image_digest(image: Image.Image) -> bytes:
    """The decoded pixels' hash, with their size and mode: the same photo, however named."""
    digest = hashlib.sha256(f"{image.mode}:{image.size}".encode())
    digest.update(image.tobytes())
    return digest.digest()


class MemoPalette:
    """The palette of photos already analysed, read back instead of clustered again."""

    def __init__(self, inner: PaletteExtractor, cache: ProviderCache) -> None:
        self.inner = inner
        self.cache = cache
        self.hits = 0

    def extract(
        self,
        images: Sequence[Image.Image],
        *,
        locale: str,
        override: Sequence[str] | None = None,
    ) -> Palette:
        """See `PaletteExtractor.extract`; brand colours are cheap and never cached."""
        if override:
            return self.inner.extract(images, locale=locale, override=override)
        key = cache_key(
            _PROVIDER, f"palette:{type(self.inner).__name__}",
            params={"locale": locale, "version": __version__, **_settings(self.inner)},
            inputs=[_image_digest(i) for i in images],
        )  # fmt: skip
        found = self.cache.get(key)
        if found is not None:
            try:
                palette = Palette.model_validate_json(found.path.read_bytes())
            except ValueError:
                palette = None  # a damaged entry is made again and replaced
            if palette is not None:
                self.hits += 1
                return palette
        palette = self.inner.extract(images, locale=locale)
        _put_text(self.cache, key, palette.model_dump_json(), model="palette")
        return palette


def _settings(adapter: object) -> dict[str, Any]:
    """The adapter's public numeric settings (k-means' ``k`` and ``seed``), part of the key."""
    return {k: v for k, v in vars(adapter).items() if not k.startswith("_") and isinstance(v, int)}


def _put_text(cache: ProviderCache, key: str, text: str, *, model: str) -> None:
    fd, tmp = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        cache.put(key, Path(tmp), provider=_PROVIDER, model=model)
    finally:
        os.unlink(tmp)


class MemoVoice:
    """Lines the offline voice already spoke, copied back with their word timings."""

    def __init__(self, inner: VoiceSynth, cache: ProviderCache) -> None:
        self.inner = inner
        self.cache = cache
        self.concurrent = bool(getattr(inner, "concurrent", False))
        self.hits = 0

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See `VoiceSynth.synthesize`."""
        key = cache_key(
            _PROVIDER, f"voice:{type(self.inner).__name__}", prompt=text,
            params={"locale": locale, "voice": voice, "rate": rate, "version": __version__},
        )  # fmt: skip
        found = self.cache.get(key)
        if found is not None and "speech" in found.meta:
            speech = Speech.model_validate(found.meta["speech"])
            _copy_into(found.path, out)
            self.hits += 1
            return speech.model_copy(update={"path": out})
        speech = self.inner.synthesize(text, locale=locale, out=out, voice=voice, rate=rate)
        meta = {"speech": speech.model_dump(mode="json")}
        self.cache.put(key, speech.path, provider=_PROVIDER, model="voice", meta=meta)
        return speech


def _copy_into(source: Path, out: Path) -> None:
    """``source`` copied to ``out`` atomically, as the port promises its WAV."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
