"""The audit log's admin page (/admin/audit): who did what and when, with filters and a CSV download.
Features record their events through perception.core.audit.record; this folder only reads them."""
