"""Reports: the gap report (DESIGN section 2) and everything leaders take out of it.

service.py keeps the report cells in step with every write, histogram_queries.py is the SQL that
reads them, queries.py builds the gap report, drivers_queries.py the key drivers, export_queries.py
the CSV exports; dashboard.py and headline.py assemble the dashboard; views.py and forms.py serve
the dashboard, drivers, exports and printable report; commands.py `gap`, `report-cells` and
`export-responses`; text_table.py prints the report in a terminal."""
