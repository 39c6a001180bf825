"""The render's plan: the decisions made before any media is made (template, formats, inputs,
palette, the script and its prompts), and the script options the API shows a user."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pipeline.brief import Brief, brief_hash
from pipeline.errors import BadInput, BriefError
from pipeline.fonts import FontFile, default_caption_font, load_brand_font
from pipeline.formats import FORMATS, FormatSpec
from pipeline.images import ALLOWED_FORMATS, load_rgb
from pipeline.palette import PaletteExtractor
from pipeline.palette.model import Palette
from pipeline.prompts import ScenePrompt, build_prompts
from pipeline.render.ports import Ports
from pipeline.render.request import RenderRequest
from pipeline.script.model import Script, script_hash
from pipeline.stages import StageClock
from pipeline.templates.model import Template
from pipeline.templates.registry import get_template
from pipeline.timeline import Encode

__all__ = ["Inputs", "Plan", "ScriptOptions", "load_logo", "plan_render", "write_scripts"]

PREVIEW_SHORT_SIDE = 360
PREVIEW_FPS = 15  # a draft checks composition and timing; half the frames, half the work
FINAL_FPS = 30


@dataclass(frozen=True)
class Inputs:
    """The brief's files, decoded and checked: what every later stage draws from."""

    photos: tuple[Image.Image, ...]
    logo: Image.Image | None
    font: FontFile


@dataclass(frozen=True)
class ScriptOptions:
    """A brief's palette and the script options written from it."""

    palette: Palette
    scripts: tuple[Script, ...]


@dataclass(frozen=True)
class Plan:
    """Everything decided before media is made; ``script`` is the one rendered."""

    request: RenderRequest
    template: Template
    specs: tuple[FormatSpec, ...]
    encode: Encode
    fps: int
    inputs: Inputs
    brief_hash: str
    palette: Palette
    scripts: tuple[Script, ...]  # the options written here; () when the request gave a script
    script: Script
    option: int
    starts: tuple[float, ...]  # each scene's start on the ad's clock
    prompts: tuple[ScenePrompt, ...]

    @property
    def brief(self) -> Brief:
        return self.request.brief

    @property
    def script_hash(self) -> str:
        return script_hash(self.script)


def preview_spec(spec: FormatSpec) -> FormatSpec:
    short = min(spec.width, spec.height)
    width = round(spec.width * PREVIEW_SHORT_SIDE / short / 2) * 2
    return spec.scaled(width)


def load_logo(path: Path) -> Image.Image:
    """The brand logo under the image limits, its transparency kept for the end card."""
    logo = load_rgb(path, field="brand.logo")
    with contextlib.suppress(OSError), Image.open(path, formats=ALLOWED_FORMATS) as raw:
        if raw.mode in ("RGBA", "LA", "P") and raw.size[0] * raw.size[1] <= 40_000_000:
            logo = raw.convert("RGBA")
    return logo


def load_inputs(brief: Brief, shown: Brief | None = None) -> Inputs:
    """Decodes the photos and logo (under the image limits) and loads the font. (The media files
    were admitted before: ``pipeline.render.intake``.) A problem names a file as ``shown`` (the
    brief as given) does, never the admitted copy."""
    shown = shown or brief
    photos = _photos(brief, shown)
    logo = None
    if brief.brand.logo is not None and shown.brand.logo is not None:
        with _as_given(brief.brand.logo, shown.brand.logo, "brand.logo"):
            logo = load_logo(brief.brand.logo)
    font = load_brand_font(brief.brand.font) if brief.brand.font else default_caption_font()
    return Inputs(photos=photos, logo=logo, font=font)


@contextlib.contextmanager
def _as_given(path: Path, name: Path, where: str) -> Iterator[None]:
    """A BadInput about ``path`` raised again as a BriefError naming it as ``name``."""
    try:
        yield
    except BadInput as exc:
        raise BriefError(where, exc.problem.replace(str(path), name.as_posix())) from None


def _palette(brief: Brief, photos: Sequence[Image.Image], extractor: PaletteExtractor) -> Palette:
    return extractor.extract(photos, locale=brief.brand.locale, override=brief.brand.palette)


def _photos(brief: Brief, shown: Brief) -> tuple[Image.Image, ...]:
    """The brief's photos decoded; a problem names the photo as ``shown`` does, never a path on
    the machine that decodes it."""
    photos = []
    for i, (path, name) in enumerate(zip(brief.product.photos, shown.product.photos, strict=True)):
        where = f"product.photos[{i}]"
        with _as_given(path, name, where):
            photos.append(load_rgb(path, field=where))
    return tuple(photos)


def write_scripts(brief: Brief, *, ports: Ports, shown: Brief | None = None) -> ScriptOptions:
    """The palette of the brief's photos and ``brief.options`` script options written from it:
    what the API shows a user to choose from, made exactly as a render makes them.

    ``brief`` names local files; ``shown`` is the same brief as its user wrote it
    (``upload:<id>``), whose names BriefError uses for a photo that cannot be decoded."""
    photos = _photos(brief, shown or brief)
    colours = _palette(brief, photos, ports.palette)
    template = get_template(brief.template)
    return ScriptOptions(colours, ports.writer.write(brief, template, colours, n=brief.options))


def _chosen(request: RenderRequest, options: tuple[Script, ...]) -> tuple[Script, int]:
    if request.script is not None:
        return request.script, request.chosen_option
    chosen = request.chosen_option
    if not 1 <= chosen <= len(options):
        raise BadInput(
            "--option",
            f"must be between 1 and {len(options)} (the brief asks for "
            f"{request.brief.options} options)",
        )
    return options[chosen - 1], chosen


def _starts(script: Script) -> tuple[float, ...]:
    starts, t = [], 0.0
    for scene in script.scenes:
        starts.append(round(t, 4))
        t += scene.duration
    return tuple(starts)


def plan_render(
    request: RenderRequest, ports: Ports, clock: StageClock, *, shown: Brief | None = None
) -> Plan:
    """The stages brief, palette, script and prompts. A request that carries its script is
    rendered as it is: no writer is asked. ``shown`` is the brief as given, whose names a
    problem with a file uses (the request's brief names the admitted copies)."""
    brief = request.brief
    specs = tuple(FORMATS[f] for f in request.chosen_formats)
    if request.preview:
        specs = tuple(preview_spec(s) for s in specs)
    with clock.stage("brief"):
        template = get_template(brief.template)
        inputs = load_inputs(brief, shown)
        digest = brief_hash(brief)
    with clock.stage("palette"):
        palette = _palette(brief, inputs.photos, ports.palette)
    with clock.stage("script"):
        options: tuple[Script, ...] = ()
        if request.script is None:
            options = ports.writer.write(brief, template, palette, n=brief.options)
        script, option = _chosen(request, options)
    with clock.stage("prompts"):
        prompts = build_prompts(script, template=template, palette=palette, brief=brief)
    return Plan(
        request=request, template=template, specs=specs,
        encode=Encode(preset="superfast", crf=28) if request.preview else Encode(),
        fps=PREVIEW_FPS if request.preview else FINAL_FPS, inputs=inputs, brief_hash=digest,
        palette=palette, scripts=options, script=script, option=option,
        starts=_starts(script), prompts=tuple(prompts),
    )  # fmt: skip
