"""Responses: recording answers from every perspective.

service.py stores a customer's answers (one link, one response) and a staff or leader
self-assessment; queries.py checks a customer link and finds one's own answers; csv_import.py
imports answers gathered elsewhere (csv_rows.py reads and checks the file); forms.py builds the
survey forms; customer_views.py is the customer's form, views.py the staff and leaders' home and
rating pages; commands.py `import-responses`."""
