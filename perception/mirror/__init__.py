"""A staff member's personal mirror: their own rating and prediction beside what their customers
said, private to them (queries.py reads it, views.py shows it)."""
