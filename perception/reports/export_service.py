"""Recording exports in the audit log: each download of responses or of the gap report (leaders'
pages, the API, `flask export-responses`) is one `export.downloaded` event, committed before the
first byte is sent, so a download that started is on record even if the client stops reading."""

from perception.core.audit import record
from perception.core.extensions import db

KINDS = ("responses", "responses-full", "gap-report", "printable-report", "api-responses")


def record_download(actor, survey, kind, team=None, **filters):
    """`actor`: the account (None for the command line); `filters`: plain values (months, grouping)."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    chosen = {name: value for name, value in filters.items() if value not in (None, "")}
    record("export.downloaded", actor=actor, target=survey, kind=kind,
           team_id=team.id if team is not None else None, **chosen)
    db.session.commit()
