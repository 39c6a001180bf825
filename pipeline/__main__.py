"""``python -m pipeline``: the ``reelforge`` command line."""

from pipeline.cli import app

app()
