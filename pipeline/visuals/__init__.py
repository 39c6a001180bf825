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
    ImageGenerator,
    StockSource,
    StockVideo,
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
    "ImageGenerator",
    "PhotoMotionClips",
    "StockSource",
    "StockVideo",
    "ken_burns",
    "offline_clips",
]
