"""The product brief: what the user asks for, validated strictly, paths resolved beside the file."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
)

from pipeline.containers import not_found
from pipeline.errors import BriefError
from pipeline.formats import Format

__all__ = [
    "Brand",
    "Brief",
    "Product",
    "Providers",
    "Variants",
    "Voice",
    "brief_hash",
    "file_refs",
    "load_brief",
    "parse_brief",
    "read_brief_data",
]

# Every field of a brief that names a file, as a path through the brief: the one list that
# validation, hashing, URL fetching, the API's uploads, the worker and Modal's bundles all use.
# A trailing "[]" marks a list of files.
FILE_FIELDS: tuple[str, ...] = (
    "product.photos[]",
    "brand.logo",
    "brand.font",
    "music",
    "voice.file",
)

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOCALE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


def _strip_nonempty(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_strip_nonempty)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Product(_Strict):
    name: Text = Field(max_length=80)
    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    description: Text = Field(max_length=600)
    features: tuple[Text, ...] = Field(min_length=1, max_length=8)
    price: Decimal = Field(ge=0, max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    url: HttpUrl
    photos: tuple[Path, ...] = Field(min_length=1, max_length=12)

    @field_validator("features")
    @classmethod
    def _feature_length(cls, features: tuple[str, ...]) -> tuple[str, ...]:
        for i, feature in enumerate(features):
            if len(feature) > 120:
                raise ValueError(f"feature {i} is longer than 120 characters")
        return features


class Brand(_Strict):
    name: Text = Field(max_length=60)
    tone: Text = Field(max_length=120)
    locale: str = "en"
    palette: tuple[str, ...] | None = Field(default=None, min_length=1, max_length=5)
    logo: Path | None = None
    font: Path | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if not _LOCALE.match(value):
            raise ValueError("must look like 'en' or 'it-IT'")
        return value

    @field_validator("palette")
    @classmethod
    def _palette(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        for colour in value:
            if not _HEX.match(colour):
                raise ValueError(f"{colour!r} is not a #rrggbb colour")
        return tuple(c.lower() for c in value)

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]


class Voice(_Strict):
    enabled: bool = True
    name: str | None = Field(default=None, max_length=60)
    rate: int | None = Field(default=None, ge=80, le=450, description="words per minute")
    # The user's own voice-over: used as the voice track, transcribed for the captions.
    file: Path | None = None


ClipProvider = Literal["offline", "kling", "fal", "pexels", "heygen", "flux"]


class Providers(_Strict):
    """Which provider makes each stage; None: settings (``REELFORGE_<STAGE>_PROVIDER``), else
    the first provider with a key, else offline. ``fallback``: a scene whose provider fails
    (after its retry) is made by the offline adapter instead of failing the job."""

    script: Literal["offline", "openrouter", "openai", "gemini"] | None = None
    script_model: str | None = Field(default=None, max_length=120)
    clips: ClipProvider | None = None
    clip_model: str | None = Field(default=None, max_length=120)
    voice: Literal["offline", "elevenlabs"] | None = None
    fallback: bool = True


class Variants(_Strict):
    """A batch: ``count`` ads from one brief. ``mix: recommended`` spreads them over the templates
    the performance data favours (``reelforge analytics recommend``); ``brief`` keeps the brief's
    template and varies the script option."""

    count: int = Field(ge=1, le=20)
    mix: Literal["recommended", "brief"] = "brief"


class Brief(_Strict):
    """A validated brief; every path in it is absolute."""

    version: int = Field(ge=1, le=1)
    product: Product
    brand: Brand
    template: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    duration: float = Field(ge=6, le=60)
    formats: tuple[Format, ...] = Field(min_length=1)
    options: int = Field(default=3, ge=1, le=8)
    voice: Voice = Voice()
    music: Path | None = None
    providers: Providers = Providers()
    variants: Variants | None = None

    @field_validator("formats")
    @classmethod
    def _unique_formats(cls, value: tuple[Format, ...]) -> tuple[Format, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a format twice")
        return value

    def files(self) -> list[tuple[str, Path]]:
        """Every file the brief names, with the field that names it (``product.photos[0]``, …),
        in :data:`FILE_FIELDS` order."""
        found: list[tuple[str, Path]] = []
        for spec in FILE_FIELDS:
            *parents, leaf = spec.removesuffix("[]").split(".")
            owner: Any = self
            for name in parents:
                owner = getattr(owner, name)
            value = getattr(owner, leaf)
            if spec.endswith("[]"):
                found += [(f"{spec[:-2]}[{i}]", p) for i, p in enumerate(value)]
            elif value is not None:
                found.append((spec, value))
        return found

    def map_files(self, change: Callable[[str, Path], Path]) -> Brief:
        """The brief with each named file replaced by ``change(field, path)``."""
        new = {field: change(field, path) for field, path in self.files()}
        photos = tuple(new[f"product.photos[{i}]"] for i in range(len(self.product.photos)))
        return self.model_copy(
            update={
                "product": self.product.model_copy(update={"photos": photos}),
                "brand": self.brand.model_copy(
                    update={"logo": new.get("brand.logo"), "font": new.get("brand.font")}
                ),
                "music": new.get("music"),
                "voice": self.voice.model_copy(update={"file": new.get("voice.file")}),
            }
        )


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "brief"


def _first_error(exc: ValidationError) -> BriefError:
    err = exc.errors()[0]
    where = _loc(tuple(err["loc"]))
    kind = err["type"]
    if kind == "extra_forbidden":
        return BriefError(where, "unknown field")
    if kind == "missing":
        return BriefError(where, "required field is missing")
    message = str(err["msg"]).removeprefix("Value error, ")
    return BriefError(where, message)


def file_refs(data: Any) -> Iterator[tuple[str, Any, Any]]:
    """(field, container, key) of every file field present in raw brief data (before it is
    validated), from :data:`FILE_FIELDS`: ``container[key]`` is the value the user wrote."""
    for spec in FILE_FIELDS:
        *parents, leaf = spec.removesuffix("[]").split(".")
        owner = data
        for name in parents:
            owner = owner.get(name) if isinstance(owner, dict) else None
        if not isinstance(owner, dict) or leaf not in owner:
            continue
        if spec.endswith("[]"):
            if isinstance(owner[leaf], list):
                items: list[Any] = owner[leaf]
                for i in range(len(items)):
                    yield f"{spec[:-2]}[{i}]", items, i
        else:
            yield spec, owner, leaf


def _resolve(path: Path, base: Path) -> Path:
    return path if path.is_absolute() else (base / path).resolve()


def _is_url(value: object) -> bool:
    return isinstance(value, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value) is not None


def parse_brief(data: Any, *, base_dir: Path) -> Brief:
    """Validate raw brief data; relative paths are resolved against ``base_dir``."""
    if not isinstance(data, dict):
        raise BriefError("brief", "must be a mapping of fields")
    for field, box, key in file_refs(data):
        if _is_url(box[key]):
            # Downloading is an explicit step before parsing (pipeline.download.fetch_assets):
            # validating a brief never touches the network.
            raise BriefError(field, "is a URL: fetch the brief's files before parsing it")
    try:
        brief = Brief.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc) from None
    brief = brief.map_files(lambda _, path: _resolve(path, base_dir))
    _check_files(brief)
    return brief


def _check_files(brief: Brief) -> None:
    for field, path in brief.files():
        if not path.is_file():
            raise BriefError(field, not_found(path, path))
        if path.stat().st_size == 0:
            raise BriefError(field, f"file is empty: {path}")


def load_brief(path: Path) -> Brief:
    """Read and validate a YAML or JSON brief file whose files are all local."""
    return parse_brief(read_brief_data(path), base_dir=path.parent.resolve())


def read_brief_data(path: Path) -> Any:
    """The raw data of a YAML or JSON brief file (not validated yet)."""
    if not path.is_file():
        raise BriefError(str(path), "brief file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BriefError(str(path), "brief is not UTF-8 text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BriefError(str(path), f"cannot parse: {first_line}") from None
    return data


def brief_hash(brief: Brief) -> str:
    """A content hash of the brief and every file it names, for the manifest and caches: the
    same brief with the same files gives the same hash wherever its files lie."""
    digests = {field: hashlib.sha256(path.read_bytes()).hexdigest() for field, path in brief.files()}
    located = brief.map_files(lambda field, _: Path(digests[field]))
    return hashlib.sha256(located.model_dump_json().encode()).hexdigest()
