"""Modal deployment of reelforge: thin function definitions that call into ``pipeline``.

The web endpoint and the render workers arrive with the service milestone; nothing here yet.
"""
