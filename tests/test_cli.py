"""create-user, seed-demo and demo-info."""

import re

from sqlalchemy import func, select

from perception.core.models import Answer, AuditEvent, Invitation, Response, Survey, Team, User
from tests.helpers import answers_for, make_team, make_user, post_form


def test_create_user_prompts_twice_and_hashes(runner, db):
    result = runner.invoke(args=["create-user", "New@Example.com", "--role", "staff", "--team", "Riverside"],
                           input="s3cret-pass\ns3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "Created staff new@example.com in team Riverside." in result.output
    user = db.session.execute(select(User)).scalar_one()
    assert user.team.name == "Riverside"
    assert user.password_hash != "s3cret-pass"
    assert user.check_password("s3cret-pass")
    created = db.session.execute(select(AuditEvent).where(AuditEvent.action == "user.created")).scalar_one()
    assert (created.actor_id, created.target_type, created.target_id, created.details) == (
        None, "users", str(user.id), {"role": "staff", "team_id": user.team_id})


def test_create_user_rejects_mismatch_duplicates_and_missing_team(runner, db):
    mismatch = runner.invoke(args=["create-user", "a@example.com", "--role", "leader"], input="password1\npassword2\n"
                             "password1\npassword1\n")
    assert "do not match" in mismatch.output
    make_user("leader", email="taken@example.com")
    taken = runner.invoke(args=["create-user", "taken@example.com", "--role", "leader"], input="password1\npassword1\n")
    assert taken.exit_code == 2
    assert "already exists" in taken.output
    no_team = runner.invoke(args=["create-user", "s@example.com", "--role", "staff"], input="password1\npassword1\n")
    assert no_team.exit_code == 2
    assert "--team" in no_team.output
    bad_role = runner.invoke(args=["create-user", "s@example.com", "--role", "owner"])
    assert bad_role.exit_code == 2


def test_create_user_makes_a_new_team_like_the_teams_pages_do(runner, db):
    """A new team named by --team is recorded in the audit log (no actor on the command line) and obeys
    the teams' name rules: a name differing from a team's only in case is refused, and nothing is made."""
    made = runner.invoke(args=["create-user", "a@example.com", "--role", "staff", "--team", "  River   Side "],
                         input="password1\npassword1\n")
    assert made.exit_code == 0, made.output
    team = db.session.execute(select(Team)).scalar_one()
    assert team.name == "River Side"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "team.created")).scalar_one()
    assert (event.actor_id, event.target_type, event.target_id, event.details) == (
        None, "teams", str(team.id), {"name": "River Side"})
    make_team("North")
    refused = runner.invoke(args=["create-user", "b@example.com", "--role", "staff", "--team", "north"],
                            input="password1\npassword1\n")
    assert refused.exit_code == 2 and "already the name of another team" in refused.output
    assert db.session.execute(select(func.count()).select_from(Team)).scalar_one() == 2
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_seed_demo_fills_an_empty_database_and_prints_a_working_link(app, runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output and "leader@example.com" in result.output
    counts = {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar()
              for model in (Team, User, Survey, Response)}
    assert counts["Team"] >= 3 and counts["Survey"] == 2
    assert db.session.execute(select(func.count()).select_from(User).where(User.role == "staff")).scalar() >= 12
    assert db.session.execute(select(func.count()).select_from(User).where(User.role == "leader")).scalar() >= 2
    customers = db.session.execute(
        select(func.count()).select_from(Response).where(Response.perspective == "customer")).scalar()
    assert 250 <= customers <= 400  # 60 a team and wave: enough for batches split by consent to show
    statuses = sorted(db.session.execute(select(Survey.status)).scalars())
    assert statuses == ["closed", "open"]
    link = re.search(r"http://perception\.test/s/(\S+)", result.output)
    assert link, result.output
    client = app.test_client()
    assert client.get(f"/s/{link.group(1)}").status_code == 303
    assert client.get("/s/answer").status_code == 200


def test_seed_demo_shows_a_gap(app, runner, db):
    runner.invoke(args=["seed-demo"])
    means = {perspective: float(mean) for perspective, mean in db.session.execute(
        select(Response.perspective, func.avg(Answer.score)).join(Response.answers).group_by(Response.perspective)
    )}
    assert means["staff"] > means["customer"] + 0.5
    assert means["leader"] > means["customer"] + 0.5


def test_seed_demo_refuses_a_non_empty_database_unless_forced(runner, db):
    make_user("leader", email="real@example.com")
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 1
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert skipped.exit_code == 0
    assert "not seeding" in skipped.output
    forced = runner.invoke(args=["seed-demo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert db.session.execute(select(User).where(User.email == "real@example.com")).scalar_one_or_none() is None


def test_seed_if_empty_twice_and_demo_info_add_nothing_until_the_link_is_answered(app, runner, db):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    users = db.session.execute(select(func.count()).select_from(User)).scalar()
    invitations = db.session.execute(select(func.count()).select_from(Invitation)).scalar()
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert second.exit_code == 0, second.output
    assert "already holds the demo" in second.output
    third = runner.invoke(args=["demo-info"])
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == users
    # The same unanswered link each time: the wave's funnel gains no "Demo customer" per call.
    links = [re.search(r"/s/(\S+)", output.output).group(1) for output in (first, second, third)]
    assert links[0] == links[1] == links[2]
    assert db.session.execute(select(func.count()).select_from(Invitation)).scalar() == invitations

    client = app.test_client()
    assert client.get(f"/s/{links[0]}").status_code == 303
    survey = db.session.execute(select(Survey).where(Survey.status == "open")).scalar_one()
    assert post_form(client, "/s/answer", answers_for(survey.items)).status_code == 303
    fourth = re.search(r"/s/(\S+)", runner.invoke(args=["demo-info"]).output).group(1)
    assert fourth != links[0]  # answered: the next call makes a fresh one
    assert db.session.execute(select(func.count()).select_from(Invitation).where(
        Invitation.customer_name == "Demo customer")).scalar() == 2


def test_the_demo_commands_refuse_to_run_in_production(app, runner, db):
    app.config["PERCEPTION_ENV"] = "production"
    for args in (["seed-demo"], ["seed-demo", "--if-empty"], ["seed-demo", "--force"], ["demo-info"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1 and "does not run with PERCEPTION_ENV=production" in refused.output, args
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(Invitation)).scalar() == 0
    app.config["PERCEPTION_ENV"] = "development"
    assert runner.invoke(args=["seed-demo"]).exit_code == 0


def test_every_command_has_help(runner):
    for command in ("create-user", "seed-demo", "demo-info"):
        result = runner.invoke(args=[command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_an_id_or_threshold_beyond_what_the_database_holds_is_a_usage_error(runner, db):
    """A robustness hunt: `webhooks remove 99999999999999999999` and `export-responses --min-n` of the same
    size reached the driver (OverflowError on SQLite, DataError on PostgreSQL): a traceback."""
    huge = "99999999999999999999"
    for args in (["webhooks", "remove", huge], ["export-responses", "--survey", "x", "--anonymous", "--min-n", huge],
                 ["gap", "--survey", "x", "--min-n", huge]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2 and "is not in the range" in result.output, (args, result.output)
