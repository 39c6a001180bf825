"""Visuals: the ClipGenerator port and its offline photo-motion adapter."""

from __future__ import annotations

from pipeline.visuals.photo_motion import PhotoMotionClips, ken_burns, offline_clips
from pipeline.visuals.port import (
    BatchClipGenerator,
    ClipContext,
    ClipFactory,
    ClipGenerator,
    ClipRequest,
    Credit,
    Fallback,
    GeneratedImage,
)

__all__ = [
    "BatchClipGenerator",
    "ClipContext",
    "ClipFactory",
    "ClipGenerator",
    "ClipRequest",
    "Credit",
    "Fallback",
    "GeneratedImage",
    "PhotoMotionClips",
    "ken_burns",
    "offline_clips",
]
