"""The support-vs-erode board: customers' comments tagged as supporting or eroding the relationship,
and the moments that come up most.

queries.py reads the comments a page may show and the board, service.py saves and removes tags,
views.py serves the pages to leaders (every team) and staff (their own team)."""
