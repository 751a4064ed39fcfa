"""The item bank and survey waves: dimensions of care, mirrored items, surveys and their items and teams."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    exists,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from perception.core.extensions import db
from perception.core.models.base import SURVEY_STATUSES, UTCDateTime, in_values, utcnow
from perception.core.models.people import Team


class Dimension(db.Model):
    __tablename__ = "dimensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list["Item"]] = relationship(back_populates="dimension", order_by="Item.position")


class Item(db.Model):
    """A mirrored pair: one construct, one wording per perspective, under a stable `key` (the CSV
    column; answers and reports are keyed by the item, so they stay comparable across waves).

    The wording columns hold the current version (`version`), the one new waves ask; every version,
    the current one included, with its translations, is an ItemVersion (written together by
    perception/surveys/bank_service.py). A retired item is offered to no new wave; waves and reports
    that have it keep it."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimensions.id"), index=True)
    customer_text: Mapped[str] = mapped_column(Text)
    staff_text: Mapped[str] = mapped_column(Text)
    leader_text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dimension: Mapped[Dimension] = relationship(back_populates="items")
    versions: Mapped[list["ItemVersion"]] = relationship(
        back_populates="item", order_by="ItemVersion.number", cascade="all, delete-orphan"
    )

    def text_for(self, perspective):
        return {"customer": self.customer_text, "staff": self.staff_text, "leader": self.leader_text}[perspective]

    @property
    def translations(self):
        """{language: customer wording} of the current version."""
        current = next((v for v in self.versions if v.number == self.version), None)
        return dict(current.customer_translations) if current else {}


class ItemVersion(db.Model):
    """One wording of an item: what a wave asked. Rewording adds a version (number + 1); a translation
    fills in or corrects the customer wording of a version in one more language (customers only:
    staff and leader pages are in English), since it says the same thing."""

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    customer_text: Mapped[str] = mapped_column(Text)
    staff_text: Mapped[str] = mapped_column(Text)
    leader_text: Mapped[str] = mapped_column(Text)
    # {language code: customer wording}, e.g. {"de": "..."}; English is customer_text.
    customer_translations: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[Item] = relationship(back_populates="versions")

    def text_for(self, perspective):
        return {"customer": self.customer_text, "staff": self.staff_text, "leader": self.leader_text}[perspective]


# `item_version`: the version number the wave asks, frozen when the item is reworded while the wave
# is open, closed or answered (perception/surveys/bank_service.py); NULL while the wave follows the
# bank (an unanswered draft), i.e. asks the item's current version.
survey_items = Table(
    "survey_items",
    db.metadata,
    Column("survey_id", ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("item_version", Integer, nullable=True),
    ForeignKeyConstraint(["item_id", "item_version"], ["item_versions.item_id", "item_versions.number"]),
)


survey_teams = Table(
    "survey_teams",
    db.metadata,
    Column("survey_id", ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id"), primary_key=True),
)


def covers_team_clause(survey_id, team_id):
    """SQL of Survey.covers_team: the wave of `survey_id` asks the team of `team_id` (columns)."""
    return or_(~exists().where(survey_teams.c.survey_id == survey_id),
               exists().where(survey_teams.c.survey_id == survey_id, survey_teams.c.team_id == team_id))


class Survey(db.Model):
    """A wave. An empty team scope means every team."""

    __tablename__ = "surveys"
    __table_args__ = (CheckConstraint(in_values("status", SURVEY_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ask_nps: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[Item]] = relationship(secondary=survey_items, order_by=(Item.dimension_id, Item.position))
    teams: Mapped[list[Team]] = relationship(secondary=survey_teams, order_by=Team.name)

    def is_accepting(self, now=None):
        now = now or utcnow()
        if self.status != "open":
            return False
        if self.opens_at and now < self.opens_at:
            return False
        return not (self.closes_at and now >= self.closes_at)

    def covers_team(self, team_id):
        return not self.teams or any(team.id == team_id for team in self.teams)
