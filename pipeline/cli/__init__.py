"""The ``reelforge`` command line, an entry point above the services: ``app`` is the console
script (``pipeline.cli:app``); :mod:`pipeline.cli.main` registers every command."""

from __future__ import annotations

from pipeline.cli.main import app

__all__ = ["app"]
