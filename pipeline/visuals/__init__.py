"""Visuals: the ClipGenerator port and its offline photo-motion adapter."""

from __future__ import annotations

from pipeline.visuals.photo_motion import PhotoMotionClips, ken_burns
from pipeline.visuals.port import ClipGenerator, ClipRequest

__all__ = ["ClipGenerator", "ClipRequest", "PhotoMotionClips", "ken_burns"]
