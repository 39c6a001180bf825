"""FFmpeg and probing: the only modules that touch media binaries."""
