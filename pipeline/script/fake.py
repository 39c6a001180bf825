"""A fake script writer for unit tests elsewhere: a fixed two-scene script, no phrasing logic."""

from __future__ import annotations

from pipeline.brief import Brief
from pipeline.palette.model import Palette
from pipeline.script.model import Scene, SceneKind, Script
from pipeline.templates.model import Template

__all__ = ["FakeScriptWriter"]


class FakeScriptWriter:
    """Returns ``n`` minimal scripts: a hook on photo 0, then an end card of two seconds."""

    def __init__(self, *, end_seconds: float = 2.0) -> None:
        self.end_seconds = end_seconds
        self.calls = 0

    def write(
        self, brief: Brief, template: Template, palette: Palette, *, n: int
    ) -> tuple[Script, ...]:
        self.calls += 1
        name = brief.product.name
        hook_seconds = round(brief.duration - self.end_seconds, 2)
        return tuple(
            Script(
                option=option,
                template=template.name,
                locale=brief.brand.locale,
                angle="benefit-led",
                hook=f"Meet {name} ({option})",
                cta="Shop now",
                scenes=(
                    Scene(
                        index=0,
                        slot=template.slots[0].name,
                        kind=SceneKind.PHOTO,
                        photo=0,
                        on_screen_text=f"Meet {name} ({option})",
                        voiceover=f"Meet {name}.",
                        visual=f"Hero shot of {name}",
                        duration=hook_seconds,
                    ),
                    Scene(
                        index=1,
                        slot=template.slots[-1].name,
                        kind=SceneKind.END_CARD,
                        photo=None,
                        on_screen_text="Shop now",
                        voiceover="Shop now",
                        visual=f"End card: {brief.brand.name} logo and the call to action",
                        duration=self.end_seconds,
                    ),
                ),
            )
            for option in range(1, n + 1)
        )
