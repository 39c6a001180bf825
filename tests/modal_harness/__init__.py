"""Modal's isolation on one machine: every function call in its own process, with its own files
and only its own secrets, sharing nothing but the database and the blob store."""
