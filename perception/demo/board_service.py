"""The demo's support-vs-erode board: most customer comments of the demo arrive tagged, as a team that
reads its comments would have tagged them, so the board tells a story on the first visit (personal
attention and attentiveness erode most, where the demo's customers feel least cared for). About one
comment in six is left untagged, so the tagging page has work to show."""

from sqlalchemy import select

from perception.core.extensions import db
from perception.core.models import CommentTag, Dimension, Response
from perception.insights import suggest_tags

# Each demo comment (perception.demo.service) and how a reader tags it: (effect, dimension key).
COMMENT_TAGS = {
    "They remembered me from last time and asked how the move went. Lovely.": ("supports", "personal_attention"),
    "Patient with all my questions, never made me feel stupid.": ("supports", "respect"),
    "Honest about the delay and called me back exactly when promised.": ("supports", "honest_communication"),
    "Felt like a real conversation, not a script.": ("supports", "understanding"),
    "Quick, friendly and they actually listened.": ("supports", "attentiveness"),
    "Fine, but I had to explain my situation three times.": ("erodes", "understanding"),
    "Friendly enough, but nobody told me the fee until the end.": ("erodes", "honest_communication"),
    "Helpful in the end, though I waited a long time without anyone noticing.": ("erodes", "attentiveness"),
    "OK. It felt a bit rushed.": ("erodes", "personal_attention"),
    "I felt like a ticket number. Nobody looked up from the screen.": ("erodes", "personal_attention"),
    "I was passed between four people and each one started from scratch.": ("erodes", "understanding"),
    "They promised a call back that never came.": ("erodes", "trust"),
    "Polite words, but it was clear nobody cared whether my problem got solved.": ("erodes", "attentiveness"),
    "I was told it was my fault before anyone had even checked.": ("erodes", "respect"),
}
TAGGED_SHARE = 5 / 6


def tag_demo_comments(rng, tagger):
    """Tag most customer comments of the demo; returns how many were tagged."""
    dimensions = dict(db.session.execute(select(Dimension.key, Dimension.id)).all())
    rows = db.session.execute(
        select(Response.id, Response.comment)
        .where(Response.perspective == "customer", Response.comment.is_not(None))
        .order_by(Response.id)
    ).all()
    tags = []
    for response_id, comment in rows:
        effect, key = COMMENT_TAGS.get(comment, (None, None))
        if key not in dimensions or rng.random() >= TAGGED_SHARE:
            continue
        first = next(iter(suggest_tags(comment, list(dimensions))), None)
        tags.append(CommentTag(response_id=response_id, dimension_id=dimensions[key], effect=effect,
                               tagged_by_id=tagger.id,
                               suggested=first is not None and (first.effect, first.dimension) == (effect, key)))
    db.session.add_all(tags)
    return len(tags)
