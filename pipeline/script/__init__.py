"""Ad scripts: the value objects, the writer port, and the offline and fake writers."""

from __future__ import annotations

from pipeline.script.fake import FakeScriptWriter
from pipeline.script.fit import check_fit
from pipeline.script.model import Scene, SceneKind, Script, script_hash, script_json_schema
from pipeline.script.offline import (
    OfflineScriptWriter,
    feature_forms,
    format_price,
    spoken_words,
    word_budget,
)
from pipeline.script.port import ScriptWriter

__all__ = [
    "FakeScriptWriter",
    "OfflineScriptWriter",
    "Scene",
    "SceneKind",
    "Script",
    "ScriptWriter",
    "check_fit",
    "feature_forms",
    "format_price",
    "script_hash",
    "script_json_schema",
    "spoken_words",
    "word_budget",
]
