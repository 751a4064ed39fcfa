"""Writing the invitation and reminder emails: a plain-text and an HTML part from Jinja templates
(templates/mail/), personalised with the customer's name, the team or staff member who served
them and the date of the visit. HTML templates autoescape, so every name is escaped there."""

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from .models import utcnow

_SPACE = re.compile(r"\s+")


def one_line(text, limit=120):
    """Header-safe text: no line breaks (no header injection), trimmed."""
    return _SPACE.sub(" ", text or "").strip()[:limit]


# Subjects and dates of the mail languages we ship (templates/mail/invitation[.<lang>].txt|html).
SUBJECTS = {
    "en": ("How did we treat you at {team}?", "Reminder: how did we treat you at {team}?"),
    "de": ("Wie haben wir Sie bei {team} behandelt?", "Erinnerung: Wie haben wir Sie bei {team} behandelt?"),
}


def _mail_language(language):
    code = (language or "en").split("-")[0].lower()
    return code if code in SUBJECTS else "en"


def format_day(when, language="en"):
    if _mail_language(language) == "de":
        return f"{when:%d.%m.%Y}"
    return f"{when.day} {when:%B %Y}"


def visit_date(invitation):
    return format_day(invitation.interaction_at or invitation.created_at, invitation.language)


def _templates(name, language, extension):
    names = []
    if language:
        names.append(f"mail/{name}.{language.lower()}.{extension}")
        if "-" in language:
            names.append(f"mail/{name}.{language.split('-')[0].lower()}.{extension}")
    names.append(f"mail/{name}.{extension}")
    return names


def compose(invitation, kind, link, unsubscribe_url, now=None):
    """The EmailMessage for `invitation` (`kind` is "invitation" or "reminder")."""
    config = current_app.config
    business = one_line(config["BUSINESS_NAME"])
    context = {
        "kind": kind,
        "name": one_line(invitation.customer_name) or None,
        "team": invitation.team.name,
        "staff_name": one_line(invitation.staff.name) if invitation.staff else None,
        "visit_date": visit_date(invitation),
        "link": link,
        "unsubscribe_url": unsubscribe_url,
        "business_name": business,
        "expires_on": format_day(invitation.expires_at, invitation.language) if invitation.expires_at else None,
        "item_count": len(invitation.survey.items),
        "language": invitation.language or "en",
    }
    first, reminder = SUBJECTS[_mail_language(invitation.language)]
    subject = (first if kind == "invitation" else reminder).format(team=one_line(invitation.team.name))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(display_name=context["name"] or "", addr_spec=invitation.customer_email)
    message["Date"] = format_datetime(now or utcnow())
    sender_domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=sender_domain)
    # RFC 2369 and RFC 8058: mail programs show an "Unsubscribe" button that POSTs to the URL.
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_render("txt", invitation.language, context))
    message.add_alternative(_render("html", invitation.language, context), subtype="html")
    if invitation.language:
        # After the body: making the message multipart moves Content-* headers into the first part.
        message["Content-Language"] = invitation.language
    return message


def _render(extension, language, context):
    """Straight from the Jinja environment: mails are written outside any request (by the
    worker), so the request-bound context processors must not run. A translated mail is its own
    template file (mail/invitation.<lang>.<ext>); HTML templates autoescape."""
    template = current_app.jinja_env.select_template(_templates("invitation", language, extension))
    return template.render(context)
