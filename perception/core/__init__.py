"""What everything stands on: settings, extensions, the database engine, the models, tokens and
hashing, the outbox table's claiming, the SMTP transport. Imports nothing else of perception."""
