"""The default item bank: 8 dimensions of care, 16 mirrored items.

This is a snapshot: items of a survey with responses never change, so a new wording belongs in
a new migration as a new item, never an edit here.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (key, name, description, [(item key, customer, staff, leader), ...])
BANK = [
    ("trust", "Trust", "Customers feel believed and able to rely on us.", [
        ("trust_believed",
         "The staff made me feel trusted: they took what I said at face value.",
         "I make customers feel trusted: I take what they say at face value.",
         "Our people make customers feel trusted: they take what customers say at face value."),
        ("trust_reliable",
         "The staff made me feel I could rely on what they promised.",
         "I make customers feel they can rely on what I promise.",
         "Our people make customers feel they can rely on what we promise."),
    ]),
    ("respect", "Respect", "Customers feel their time, views and dignity are respected.", [
        ("respect_dignity",
         "The staff made me feel respected.",
         "I make customers feel respected.",
         "Our people make customers feel respected."),
        ("respect_time",
         "The staff made me feel my time mattered to them.",
         "I make customers feel their time matters to me.",
         "Our people make customers feel their time matters to us."),
    ]),
    ("understanding", "Understanding", "Customers feel listened to and understood.", [
        ("understanding_listened",
         "The staff made me feel listened to until they understood what I needed.",
         "I make customers feel listened to until I understand what they need.",
         "Our people make customers feel listened to until we understand what they need."),
        ("understanding_situation",
         "The staff made me feel they understood my situation.",
         "I make customers feel I understand their situation.",
         "Our people make customers feel we understand their situation."),
    ]),
    ("appreciation", "Appreciation", "Customers feel valued and thanked.", [
        ("appreciation_valued",
         "The staff made me feel my custom is valued.",
         "I make customers feel their custom is valued.",
         "Our people make customers feel their custom is valued."),
        ("appreciation_thanked",
         "The staff made me feel appreciated, not just processed.",
         "I make customers feel appreciated, not just processed.",
         "Our people make customers feel appreciated, not just processed."),
    ]),
    ("honest_communication", "Honest communication", "Customers feel told the truth, clearly and in time.", [
        ("honesty_truth",
         "The staff made me feel told the truth, even when it was not what I hoped to hear.",
         "I make customers feel told the truth, even when it is not what they hope to hear.",
         "Our people make customers feel told the truth, even when it is not what they hope to hear."),
        ("honesty_clear",
         "The staff made me feel clearly informed, with no surprises or small print.",
         "I make customers feel clearly informed, with no surprises or small print.",
         "Our people make customers feel clearly informed, with no surprises or small print."),
    ]),
    ("kindness", "Kindness", "Customers feel treated warmly and patiently.", [
        ("kindness_warm",
         "The staff made me feel treated with kindness.",
         "I make customers feel treated with kindness.",
         "Our people make customers feel treated with kindness."),
        ("kindness_patient",
         "The staff made me feel they had patience with me.",
         "I make customers feel I have patience with them.",
         "Our people make customers feel we have patience with them."),
    ]),
    ("personal_attention", "Personal attention", "Customers feel treated as a person, not a case.", [
        ("personal_person",
         "The staff made me feel treated as a person, not a case number.",
         "I make customers feel treated as a person, not a case number.",
         "Our people make customers feel treated as a person, not a case number."),
        ("personal_needs",
         "The staff made me feel my particular needs were taken into account.",
         "I make customers feel their particular needs are taken into account.",
         "Our people make customers feel their particular needs are taken into account."),
    ]),
    ("attentiveness", "Attentiveness", "Customers feel noticed and cared about: the opposite of indifference.", [
        ("attentive_noticed",
         "The staff made me feel noticed: I did not have to chase anyone for help.",
         "I make customers feel noticed: they do not have to chase me for help.",
         "Our people make customers feel noticed: they do not have to chase us for help."),
        ("attentive_cared",
         "The staff made me feel they cared what happened to me.",
         "I make customers feel I care what happens to them.",
         "Our people make customers feel we care what happens to them."),
    ]),
]


def upgrade():
    dimensions = sa.table(
        "dimensions", sa.column("id", sa.Integer), sa.column("key", sa.String), sa.column("name", sa.String),
        sa.column("description", sa.Text), sa.column("position", sa.Integer),
    )
    items = sa.table(
        "items", sa.column("key", sa.String), sa.column("dimension_id", sa.Integer),
        sa.column("customer_text", sa.Text), sa.column("staff_text", sa.Text), sa.column("leader_text", sa.Text),
        sa.column("position", sa.Integer),
    )
    connection = op.get_bind()
    for position, (key, name, description, _items) in enumerate(BANK, start=1):
        connection.execute(dimensions.insert().values(key=key, name=name, description=description, position=position))
    ids = dict(connection.execute(sa.select(dimensions.c.key, dimensions.c.id)).all())
    rows = []
    for key, _name, _description, pairs in BANK:
        for position, (item_key, customer, staff, leader) in enumerate(pairs, start=1):
            rows.append({"key": item_key, "dimension_id": ids[key], "customer_text": customer,
                         "staff_text": staff, "leader_text": leader, "position": position})
    op.bulk_insert(items, rows)


def downgrade():
    keys = [item[0] for _key, _name, _description, pairs in BANK for item in pairs]
    op.execute(sa.text("DELETE FROM items WHERE key IN :keys").bindparams(sa.bindparam("keys", keys, expanding=True)))
    op.execute(
        sa.text("DELETE FROM dimensions WHERE key IN :keys").bindparams(
            sa.bindparam("keys", [key for key, *_ in BANK], expanding=True)
        )
    )
