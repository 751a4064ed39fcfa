"""Recording to the audit log. Every feature records through `record`, inside the transaction of the
change it records, so an event is kept exactly when its change is.

Details must identify people by id or keyed hash (perception.core.tokens.email_hash), never by a
customer's address or name; `record` refuses a detail value that looks like an email address."""

from perception.core.extensions import db
from perception.core.models.audit import AuditEvent

# The actions the log knows, in the order the admin page's filter lists them. Add new ones here.
ACTIONS = (
    "login.success",
    "login.failure",
    "token.created",
    "token.revoked",
    "export.downloaded",
    "user.created",
    "user.invited",
    "user.role_changed",
    "user.team_changed",
    "user.deactivated",
    "user.activated",
    "user.password_set",
    "user.password_reset_requested",
    "team.created",
    "team.renamed",
    "team.merged",
    "team.archived",
    "team.restored",
    "survey.created",
    "survey.opened",
    "survey.closed",
    "survey.items_changed",
    "dimension.created",
    "dimension.renamed",
    "item.created",
    "item.reworded",
    "item.translated",
    "item.retired",
    "item.restored",
    "customer.erased",
    "followup.reassigned",
    "comment.tagged",
    "comment.untagged",
    "webhook.added",
    "webhook.removed",
    "responses.imported",
)


class AuditDetailError(ValueError):
    """A detail that would put a person's address into the log."""


def _target(target):
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return kind, str(ident)
    return target.__tablename__, str(target.id)


def record(action, actor=None, target=None, **details):
    """Add one event to the current transaction. `actor` is a User (or None for the command line and
    anonymous visitors); `target` a model instance or a (table, id) pair; `details` plain JSON values."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to perception.core.audit.ACTIONS")
    for key, value in details.items():
        if isinstance(value, str) and "@" in value:
            raise AuditDetailError(f"audit detail {key!r} looks like an email address; record an id or a keyed hash")
    target_type, target_id = _target(target)
    event = AuditEvent(action=action, actor_id=getattr(actor, "id", None), target_type=target_type,
                       target_id=target_id, details=details)
    db.session.add(event)
    return event
