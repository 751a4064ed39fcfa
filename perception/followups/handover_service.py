"""Follow-ups handed over when their assignee may no longer see them: the account was moved to another
team, made staff, or deactivated (perception.accounts.signals.scope_changed, sent inside that change's
transaction). Left as they were, such follow-ups stalled: their assignee could not open them, "Assigned
to me" no longer listed them for anyone, and their alert was cancelled unsent (followups.mail).

Each unresolved follow-up of the account that it may no longer see goes to the first who may take it
(`assignable_users`: a leader of its team, else an admin), with a "reassigned" event, an audit entry
and an alert to them. With nobody to take it, it stays where it is (admins see every follow-up).

The change's own hand-over cannot see a follow-up that a customer's answer is opening at the same
moment: on PostgreSQL the answer's INSERT picks the team's first leader as committed when it starts, and
the change's transaction reads the follow-ups before that answer commits. So the worker also sweeps
(`hand_over_stranded`, every minute): any unresolved follow-up whose assignee may no longer see it is
handed over the same way."""

from sqlalchemy import and_, not_, select, update

from perception.accounts.signals import scope_changed
from perception.core.extensions import db
from perception.core.models import FollowUp, User, utcnow
from perception.followups.queries import account_sees_followup, assignable_users, sees_followup
from perception.followups.service import give_to

HANDED_OVER = "Handed over: the previous assignee may no longer see this follow-up."


def hand_over(user, actor=None, now=None):
    """Give away the unresolved follow-ups of `user` that they may no longer see (the caller commits).
    Returns how many were handed over."""
    now = now or utcnow()
    followups = db.session.execute(
        select(FollowUp).where(FollowUp.assignee_id == user.id, FollowUp.state != "resolved").order_by(FollowUp.id)
    ).scalars().all()  # read whole before handing over writes on the same connection
    handed = 0
    for followup in followups:
        if user.active and sees_followup(user, followup):
            continue
        target = next((candidate for candidate in assignable_users(followup) if candidate.id != user.id), None)
        if target is not None and _still_theirs(followup, user, target):
            give_to(followup, actor, target, HANDED_OVER, now, handed_over=True)
            handed += 1
    return handed


def _still_theirs(followup, user, target):
    """Move the follow-up to `target` if it is still `user`'s and unresolved, in one conditional UPDATE:
    a reassignment or a resolution committed since it was read above (the worker's sweep reads with no
    lock) wins, and the hand-over leaves it be. The database decides between the two writers: SQLite
    runs one at a time, PostgreSQL checks the condition again on the row a concurrent writer left."""
    followups = FollowUp.__table__
    return db.session.execute(
        update(followups)
        .where(followups.c.id == followup.id, followups.c.assignee_id == user.id, followups.c.state != "resolved")
        .values(assignee_id=target.id)
    ).rowcount == 1


def hand_over_stranded(now=None):
    """Hand over every unresolved follow-up whose assignee may no longer see it, whatever left it so
    (see the module's docstring), and commit. Returns how many were handed over."""
    now = now or utcnow()
    users, followups = User.__table__, FollowUp.__table__
    may_see = and_(users.c.active.is_(True), account_sees_followup(users, followups))  # as hand_over checks
    stranded = (select(followups.c.assignee_id).join(users, users.c.id == followups.c.assignee_id)
                .where(followups.c.state != "resolved", not_(may_see)))
    assignees = db.session.execute(select(User).where(User.id.in_(stranded)).order_by(User.id)).scalars().all()
    handed = sum(hand_over(user, now=now) for user in assignees)
    db.session.commit()
    return handed


def init_app(app):
    """Hand over follow-ups whenever an account's scope changes (the receiver is module-wide: connecting
    it again, for another app, changes nothing)."""
    scope_changed.connect(hand_over)  # sent with the account, actor= and now=
