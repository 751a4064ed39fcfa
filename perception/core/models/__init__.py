"""SQLAlchemy models. Rules that protect the data live in the database as well as in Python:
score ranges are CHECKs, one customer response per invitation and one staff/leader response
per user and survey are unique indexes (over the responses that have an invitation, a user)."""

from perception.core.models.audit import AuditEvent
from perception.core.models.base import (
    INVITATION_STATES,
    PERSPECTIVES,
    ROLES,
    SURVEY_STATUSES,
    UTCDateTime,
    get_by,
    in_values,
    utcnow,
)
from perception.core.models.followups import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    FOLLOWUP_EVENT_KINDS,
    FOLLOWUP_STATES,
    RECOVERY_STATES,
    TAG_EFFECTS,
    CommentTag,
    ErasureRecord,
    FollowUp,
    FollowUpEvent,
    RecoveryRequest,
    StaffGuess,
)
from perception.core.models.outreach import (
    OUTBOX_KINDS,
    OUTBOX_STATUSES,
    IdempotencyKey,
    MailSuppression,
    OpenLink,
    OutboxMessage,
)
from perception.core.models.people import ACCOUNT_TOKEN_PURPOSES, DIGEST_FREQUENCIES, AccountToken, ApiToken, Team, User
from perception.core.models.responses import Answer, Invitation, PredictedAnswer, ReportCell, Response
from perception.core.models.surveys import Dimension, Item, ItemVersion, Survey, survey_items, survey_teams
from perception.core.models.webhooks import (
    DELIVERY_STATUSES,
    WEBHOOK_EVENTS,
    WebhookDelivery,
    WebhookEndpoint,
    WorkerRun,
)

__all__ = [
    "DIGEST_FREQUENCIES",
    "ROLES",
    "PERSPECTIVES",
    "SURVEY_STATUSES",
    "INVITATION_STATES",
    "utcnow",
    "UTCDateTime",
    "in_values",
    "get_by",
    "Team",
    "User",
    "ApiToken",
    "AccountToken",
    "ACCOUNT_TOKEN_PURPOSES",
    "Dimension",
    "Item",
    "ItemVersion",
    "survey_items",
    "survey_teams",
    "Survey",
    "Invitation",
    "Response",
    "Answer",
    "PredictedAnswer",
    "ReportCell",
    "OUTBOX_KINDS",
    "OUTBOX_STATUSES",
    "OutboxMessage",
    "MailSuppression",
    "IdempotencyKey",
    "OpenLink",
    "FOLLOWUP_STATES",
    "FOLLOWUP_EVENT_KINDS",
    "CONTACT_CHANNELS",
    "CONTACT_OUTCOMES",
    "RECOVERY_STATES",
    "FollowUp",
    "FollowUpEvent",
    "RecoveryRequest",
    "StaffGuess",
    "ErasureRecord",
    "TAG_EFFECTS",
    "CommentTag",
    "AuditEvent",
    "WEBHOOK_EVENTS",
    "DELIVERY_STATUSES",
    "WebhookEndpoint",
    "WebhookDelivery",
    "WorkerRun",
]
