"""Modal deployment of reelforge: thin function definitions (``app.py``) that call into ``pipeline``.

The helpers beside ``app.py`` turn the library's file-based calls into plain data for remote
calls (``bundle``, ``scenes``), guard outbound fetches (``guard``) and sweep the queue (``sweep``).
"""
