"""Fixtures for the script tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_fixtures import BriefFactory, brief_factory, make_palette

from pipeline.palette.model import Palette


@pytest.fixture
def make_brief(tmp_path: Path) -> BriefFactory:
    return brief_factory(tmp_path)


@pytest.fixture
def palette() -> Palette:
    return make_palette("en")
