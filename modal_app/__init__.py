"""Modal deployment of reelforge: thin function definitions (``app.py``) that call into ``pipeline``.

The helpers beside ``app.py`` turn the library's file-based calls into plain data for remote
calls (``bundle``, ``scenes``, ``compose``), run a job's render without the service secret
(``renderer``, ``media``), give the API its media desk (``media_desk``) and sweep the queue
(``sweep``).
"""
