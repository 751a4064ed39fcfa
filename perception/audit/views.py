"""The audit log's admin page, /admin/audit: filters (what, who, days, on what), pages of events
newest first, and the same selection as a streamed, formula-safe CSV download. Admins only: the
admin blueprint checks it before every view."""

from math import ceil

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user

from perception.audit.forms import AuditFilterForm
from perception.audit.queries import NO_ACCOUNT, PER_PAGE, csv_rows, details_text, event_page, target_types
from perception.audit.service import record_log_download
from perception.core.csv_cells import csv_chunks
from perception.web.admin import bp as admin


@admin.get("/audit")
def audit_log():
    form = AuditFilterForm(target_types(), formdata=request.args)
    if not form.validate():
        return render_template("audit/log.html", form=form, rows=None, total=0, page=1, pages=1), 400
    page = form.page.data or 1
    total, rows = event_page(form.filters(), page=page)
    return render_template("audit/log.html", form=form, rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), details_text=details_text, no_account=NO_ACCOUNT)


@admin.get("/audit.csv")
def audit_csv():
    form = AuditFilterForm(target_types(), formdata=request.args)
    if not form.validate():
        return render_template("audit/log.html", form=form, rows=None, total=0, page=1, pages=1), 400
    filters = form.filters()
    record_log_download(current_user, filters)
    # stream_with_context keeps this request's app context (and its database session) for the
    # generator: the rows are read in batches while the body is sent.
    response = Response(stream_with_context(csv_chunks(csv_rows(filters))), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response
