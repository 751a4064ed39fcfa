"""Backups: `flask backup --out FILE` and `flask restore FILE` (DESIGN section 3). SQLite through its
online backup API; PostgreSQL through pg_dump / pg_restore, which the commands explain."""
