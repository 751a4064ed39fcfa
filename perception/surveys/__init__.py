"""Surveys (waves): created from the item bank, edited while a draft, opened and closed.

service.py holds the rules and writes, queries.py the one lookup by slug and the overview counts,
views.py and forms.py the leaders' pages, commands.py what commands taking `--survey` share.
The item bank the waves pick from is managed by admins: bank_service.py (rules, versions, audit),
bank_queries.py, bank_views.py (/admin/items, /admin/dimensions) and bank_forms.py."""
