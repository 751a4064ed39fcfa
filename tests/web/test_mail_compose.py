"""The invitation mail as perception.web.mail writes it (MIME bytes by hand, for speed) read
back with the email package, against the same mail built with the email package's EmailMessage:
the same headers, the same text and HTML, whatever the names hold (quotes, angle brackets,
umlauts, emoji, line breaks, control characters, very long values)."""

import email
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from perception.core.extensions import db as database
from perception.core.models import utcnow
from perception.insights.effort import phone_minutes
from perception.invitations.mail import (
    INVITATION_TEMPLATE,
    SUBJECTS,
    format_day,
    invitation_mail,
    mail_language,
    visit_date,
)
from perception.invitations.queries import mail_link, unsubscribe_link
from perception.invitations.service import create_invitation
from perception.web.mail import MailWriter, header_line, mail_templates, one_line
from tests.helpers import make_survey, make_team, make_user

NAMES = [
    "Ana",
    None,
    'Ana "Nana" O\'Neil, Jr. <script>alert(1)</script>',
    "Jörg Müller-Lüdenscheidt",
    "Zoë 🙂 李小龙",
    "Eve\r\nBcc: victim@example.org",
    "Tab\there\x01bell\x07\x7fdel",
    ("Bartholomew " * 12)[:120],
]
TEAMS = ["Harbour Street", "Harbour <Street>", "Filiale Hafenstraße", ("Équipe " + "très longue " * 10)[:120]]


def reference(invitation, kind, link, unsubscribe_url, now, config, jinja):
    """The mail as the email package writes it (how perception wrote it before MailWriter)."""
    language = invitation.language
    context = {
        "kind": kind, "name": one_line(invitation.customer_name) or None, "team": invitation.team.name,
        "staff_name": one_line(invitation.staff.name) if invitation.staff else None,
        "visit_date": visit_date(invitation), "link": link, "unsubscribe_url": unsubscribe_url,
        "business_name": one_line(config["BUSINESS_NAME"]),
        "expires_on": format_day(invitation.expires_at, language) if invitation.expires_at else None,
        "item_count": len(invitation.survey.items), "language": language or "en",
        "minutes": phone_minutes(len(invitation.survey.items), recommend=invitation.survey.ask_nps),
    }
    first, reminder = SUBJECTS[mail_language(language)]
    message = EmailMessage()
    message["Subject"] = (first if kind == "invitation" else reminder).format(team=one_line(invitation.team.name))
    message["From"] = config["MAIL_FROM"]
    message["To"] = Address(display_name=context["name"] or "", addr_spec=invitation.customer_email)
    message["Date"] = format_datetime(now)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(jinja.select_template(mail_templates(INVITATION_TEMPLATE, language, "txt")).render(context))
    html = jinja.select_template(mail_templates(INVITATION_TEMPLATE, language, "html")).render(context)
    message.add_alternative(html, subtype="html")
    if language:
        message["Content-Language"] = language
    return email.message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)


def _body(message, subtype):
    return message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")


@pytest.mark.parametrize("language", [None, "de-AT", "en"])
@pytest.mark.parametrize("kind", ["invitation", "reminder"])
def test_written_mail_reads_back_as_the_email_package_would_write_it(app, db, kind, language):
    app.config.update(MAIL_FROM="Pflege-Team Müller <care@perception.test>", BUSINESS_NAME="Bäckerei & Söhne <GmbH>")
    writer = MailWriter()
    staff = make_user("staff", name="Kemi \u00c5deyemi", team=make_team())
    survey = make_survey()
    now = utcnow()
    for number, (name, team_name) in enumerate((name, team) for name in NAMES for team in TEAMS):
        team = make_team(team_name)
        invitation = make_invitation_row(survey, team, staff, f"c{number}@example.org", name, language)
        link, unsubscribe = mail_link(invitation), unsubscribe_link(invitation)

        mail = invitation_mail(writer, invitation, kind, link, unsubscribe, now)

        lines = mail.data.split(b"\r\n")
        assert mail.data.endswith(b"\r\n") and b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
        assert max(map(len, lines)) <= 998 and mail.data.isascii() and not mail.smtputf8
        assert (mail.sender, mail.recipient) == ("care@perception.test", f"c{number}@example.org")
        written = email.message_from_bytes(mail.data, policy=policy.default)
        expected = reference(invitation, kind, link, unsubscribe, now, app.config, app.jinja_env)
        assert not written.defects and all(not part.defects for part in written.walk())
        header_names = [key.lower() for key in written]
        assert len(header_names) == len(set(header_names)) and "bcc" not in header_names
        for header in ("Subject", "From", "Date", "List-Unsubscribe-Post", "Auto-Submitted", "Content-Language"):
            assert written[header] == expected[header], header
        [to], [expected_to] = written["To"].addresses, expected["To"].addresses
        assert (to.display_name, to.addr_spec) == (expected_to.display_name, expected_to.addr_spec)
        assert "".join(str(written["List-Unsubscribe"]).split()) == f"<{unsubscribe}>"
        assert written["Message-ID"].endswith("@perception.test>")
        assert written.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in written.iter_parts()] == ["text/plain", "text/html"]
        assert _body(written, "plain") == _body(expected, "plain")
        assert _body(written, "html") == _body(expected, "html")
        assert link in _body(written, "plain") and f'href="{link}"' in _body(written, "html")


def make_invitation_row(survey, team, staff, address, name, language):
    invitation, _token = create_invitation(survey, team, email=address, name=None, staff=staff,
                                           interaction_at=utcnow(), now=utcnow(), channel="email",
                                           language=language, created_by=None)
    invitation.customer_name = name  # as stored, unchecked: the writer must cope with anything
    database.session.commit()
    return invitation


def test_an_address_that_is_not_ascii_asks_for_smtputf8_and_a_local_part_the_email_package_refuses_raises(app, db):
    survey, team = make_survey(), make_team()
    invitation = make_invitation_row(survey, team, None, "jorg@bäckerei.example", "Jörg", "de")

    mail = invitation_mail(MailWriter(), invitation, "invitation", mail_link(invitation), unsubscribe_link(invitation))

    assert mail.smtputf8 and mail.recipient == "jorg@bäckerei.example"
    written = email.message_from_string(mail.data.decode(), policy=policy.SMTPUTF8)  # as an SMTPUTF8 server reads it
    assert written["To"].addresses[0].addr_spec == "jorg@bäckerei.example"
    assert written["To"].addresses[0].display_name == "Jörg"
    refused = make_invitation_row(survey, team, None, "jörg@example.de", "Jörg", "de")
    with pytest.raises(ValueError, match="non-ASCII"):  # perception.invitations.mail turns it into a bounce, as before
        invitation_mail(MailWriter(), refused, "invitation", mail_link(refused), unsubscribe_link(refused))


def test_the_german_reminder_starts_a_new_sentence_after_its_first_paragraph(app, db):
    writer, team, survey = MailWriter(), make_team("Hafen"), make_survey()
    invitation = make_invitation_row(survey, team, None, "jorg@example.de", "Jörg", "de")
    link, unsubscribe = mail_link(invitation), unsubscribe_link(invitation)
    texts = {kind: _body(email.message_from_bytes(invitation_mail(writer, invitation, kind, link, unsubscribe,
                                                                   utcnow()).data, policy=policy.default), "plain")
             for kind in ("invitation", "reminder")}
    assert "Guten Tag Jörg,\n\ndanke für Ihren Besuch" in texts["invitation"]
    assert "weiterhin wichtig.\n\nDanke für Ihren Besuch" in texts["reminder"]


@pytest.mark.parametrize("name", ["Cara\r.\r\nMAIL FROM:<ceo@perception.test>\r\nDATA\rx",  # 7bit
                                  "Čara\r.\r\nMAIL FROM:<ceo@perception.test>\r\nDATA\rx"])  # quoted-printable
def test_a_lone_carriage_return_in_a_body_becomes_a_line_break(app, db, name):
    """RFC 5321 section 2.3.8 forbids a bare CR in DATA; a relay that takes one for a line end reads
    "<CR>.<CR><LF>" as the end of the message and the rest as commands (SMTP smuggling). Whatever the
    template is given (a name stored before names were cleaned), no body carries one."""
    context = {"name": name, "team": "Harbour\rStreet", "link": "http://perception.test/s/r/x",
               "expires_on": "1 January 2027"}
    mail = MailWriter().write("cara@example.org", name, "Did we put things right?", "followups/mail_recovery",
                              context)
    assert b"\r" not in mail.data.replace(b"\r\n", b"") and b"=0D" not in mail.data
    assert b"\r\n.\r\n" not in mail.data
    text = email.message_from_bytes(mail.data, policy=policy.default).get_body(("plain",)).get_content()
    assert ".\nMAIL FROM:<ceo@perception.test>\nDATA\nx" in text.replace("\r\n", "\n")


@pytest.mark.parametrize("subject", [
    "B" * 70 + " x",  # a first word that does not fit beside "Subject: "
    "Ü" + "B" * 80,
    "A customer of Customer contact centre needs a follow-up by 08 Dec 14:00 UTC",
])
def test_a_folded_subject_never_starts_with_a_line_break(subject):
    line = header_line("Subject", subject)
    assert line.startswith("Subject: ") and line[len("Subject: ")] not in "\r\n \t"
    assert max(len(part) for part in line.split("\r\n")) <= 998
    written = email.message_from_string(line + "\r\nbody", policy=policy.default)
    assert written["Subject"] == subject
