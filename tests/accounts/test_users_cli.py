"""`flask users invite|deactivate|activate|reset-password` (DESIGN section 3): each queues or changes
what the admins' people pages do, with --help and clear errors."""

import pytest
from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import AuditEvent, OutboxMessage, User
from tests.helpers import make_team, make_user


def account_mails():
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "account")).scalars())


def audit_actions():
    return [event.action for event in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]


def test_invite_queues_the_set_password_mail(runner, db):
    team = make_team("Harbour Street")
    result = runner.invoke(args=["users", "invite", "Noor@Example.net", "--role", "staff", "--team", "Harbour Street"])
    assert result.exit_code == 0, result.output
    assert "Invited staff noor@example.net in team Harbour Street" in result.output
    user = db.session.execute(select(User).where(User.email == "noor@example.net")).scalar_one()
    assert user.team_id == team.id
    [mail] = account_mails()
    assert (mail.status, mail.account_token.purpose, mail.account_token.user_id) == ("pending", "invite", user.id)
    assert audit_actions() == ["user.invited"]


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "owner"], "Unknown role 'owner': choose one of admin, leader, staff."),
    (["--role", "staff", "--team", "Nowhere branch"], "There is no team called 'Nowhere branch'."),
    (["--role", "staff"], "Staff members belong to a team"),
])
def test_invite_errors_are_clear(runner, db, args, message):
    result = runner.invoke(args=["users", "invite", "kim@example.net", *args])
    assert result.exit_code == 1 and message in result.output
    assert db.session.execute(select(User)).first() is None and account_mails() == []


def test_invite_refuses_an_existing_or_invalid_address(runner, db):
    make_user("leader", email="lee@example.com")
    existing = runner.invoke(args=["users", "invite", "LEE@example.com", "--role", "leader"])
    assert existing.exit_code == 1 and "lee@example.com already has an account" in existing.output
    invalid = runner.invoke(args=["users", "invite", "not-an-address", "--role", "leader"])
    assert invalid.exit_code == 1 and "is not a valid email address" in invalid.output


def test_deactivate_activate_and_reset_password(runner, db):
    user = make_user("staff", email="sam@example.com")
    version = user.session_version

    deactivated = runner.invoke(args=["users", "deactivate", "Sam@example.com"])
    assert deactivated.exit_code == 0 and "Deactivated sam@example.com." in deactivated.output
    db.session.expire_all()
    assert not user.active and user.session_version > version
    refused = runner.invoke(args=["users", "reset-password", "sam@example.com"])
    assert refused.exit_code == 1 and "deactivated: activate the account first" in refused.output
    assert "already deactivated" in runner.invoke(args=["users", "deactivate", "sam@example.com"]).output

    activated = runner.invoke(args=["users", "activate", "sam@example.com"])
    assert activated.exit_code == 0 and "Activated sam@example.com." in activated.output
    reset = runner.invoke(args=["users", "reset-password", "sam@example.com"])
    assert reset.exit_code == 0 and "password-reset link for sam@example.com is queued" in reset.output
    [mail] = account_mails()
    assert mail.account_token.purpose == "reset"
    assert audit_actions() == ["user.deactivated", "user.activated", "user.password_reset_requested"]


@pytest.mark.parametrize("command", ["deactivate", "activate", "reset-password"])
def test_an_unknown_email_is_a_clear_error(runner, db, command):
    result = runner.invoke(args=["users", command, "nobody@example.com"])
    assert result.exit_code == 1 and "There is no account with the email 'nobody@example.com'" in result.output


def test_the_last_admin_cannot_be_deactivated(runner, db):
    make_user("admin", email="ada@example.com")
    result = runner.invoke(args=["users", "deactivate", "ada@example.com"])
    assert result.exit_code == 1 and "last active admin" in result.output


@pytest.mark.parametrize("command", ["invite", "deactivate", "activate", "reset-password"])
def test_every_users_command_has_help(runner, command):
    result = runner.invoke(args=["users", command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and "EMAIL" in result.output

