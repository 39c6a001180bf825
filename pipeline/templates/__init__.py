"""Ad templates as data: slot structure, pacing, captions and CTA, loaded from packaged YAML."""

from __future__ import annotations

from pipeline.templates.model import (
    ANGLES,
    LANGUAGES,
    Angle,
    CaptionStyle,
    Pacing,
    Slot,
    Template,
)
from pipeline.templates.registry import get_template, load_templates, parse_template

__all__ = [
    "ANGLES",
    "LANGUAGES",
    "Angle",
    "CaptionStyle",
    "Pacing",
    "Slot",
    "Template",
    "get_template",
    "load_templates",
    "parse_template",
]
