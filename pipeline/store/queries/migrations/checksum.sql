-- migrations/checksum: The checksum one version was recorded with, if it was.
select checksum from reelforge.schema_migrations where version = %(version)s
