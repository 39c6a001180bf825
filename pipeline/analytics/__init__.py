"""The analytics loop: creative identity, performance import and (elsewhere) the reports."""

from __future__ import annotations
