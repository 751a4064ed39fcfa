"""Tagging customer comments: a leader or staff member says a comment supports or erodes the
relationship on one dimension of care."""

from sqlalchemy import select

from perception.board.queries import survey_dimensions
from perception.core.audit import record
from perception.core.errors import FieldError
from perception.core.extensions import db
from perception.core.models import CommentTag, Dimension, utcnow
from perception.core.tokens import row_reference_of
from perception.insights import EFFECTS, suggest_tags


class TagError(FieldError):
    """A tag was refused; `field` names the form field at fault."""


def _audited_comment(response):
    """The audit entry's target: the comment by the keyed reference the board names it by, never the
    response's id (ids count up as answers arrive; an admin reading the log could put the comments back
    in the order they came, and so tell whose each is: DESIGN section 2, "No consent, no link")."""
    return ("comments", row_reference_of(response.id))


def save_tag(survey, response, user, effect, dimension_key):
    """Create or change the tag of `response` on a dimension. Returns the CommentTag."""
    if effect not in EFFECTS:
        raise TagError("Choose whether the comment supports or erodes the relationship.", "effect")
    dimensions = dict(survey_dimensions(survey))
    if dimension_key not in dimensions:
        raise TagError("Choose one of this survey's dimensions of care.", "dimension")
    dimension = db.session.execute(select(Dimension).where(Dimension.key == dimension_key)).scalar_one()
    first = next(iter(suggest_tags(response.comment, list(dimensions))), None)
    kept = first is not None and (first.effect, first.dimension) == (effect, dimension_key)
    tag = db.session.execute(
        select(CommentTag).where(CommentTag.response_id == response.id, CommentTag.dimension_id == dimension.id)
    ).scalar_one_or_none()
    values = {"effect": effect, "tagged_by_id": user.id, "suggested": kept}  # read before any autoflush
    if tag is None:
        tag = CommentTag(response_id=response.id, dimension_id=dimension.id, **values)
        db.session.add(tag)
    else:
        for name, value in values.items():
            setattr(tag, name, value)
        tag.updated_at = utcnow()
    record("comment.tagged", actor=user, target=_audited_comment(response), dimension=dimension_key, effect=effect)
    db.session.commit()
    return tag


def remove_tag(response, dimension_key, user=None):
    """Remove the tag of `response` on a dimension; True when there was one. `user`: who removed it."""
    tag = db.session.execute(
        select(CommentTag).join(Dimension, Dimension.id == CommentTag.dimension_id)
        .where(CommentTag.response_id == response.id, Dimension.key == dimension_key)
    ).scalar_one_or_none()
    if tag is None:
        return False
    record("comment.untagged", actor=user, target=_audited_comment(response), dimension=dimension_key,
           effect=tag.effect)
    db.session.delete(tag)
    db.session.commit()
    return True
