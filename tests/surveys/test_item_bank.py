"""The item bank (#15): admins add and rename dimensions, add, reword, translate, retire and restore
items; a wave keeps the wording it was opened with; new waves ask the new one; retired items are
offered to no new wave; the phone-time estimate on the wave form and the customer page."""

import pytest
from sqlalchemy import select

from perception.core.extensions import db as _db
from perception.core.models import AuditEvent, Dimension, Item, ItemVersion
from perception.surveys.queries import wave_items
from tests.helpers import (
    bank_items,
    login,
    make_invitation,
    make_responses,
    make_survey,
    make_team,
    make_user,
    open_link,
    post_form,
)

NEW_ITEM = {
    "dimension": "kindness",
    "key": "kindness_listened",
    "customer": "The staff made me feel they had time to listen.",
    "staff": "I make customers feel I have time to listen.",
    "leader": "Our people make customers feel we have time to listen.",
    "customer_de": "Die Mitarbeitenden gaben mir das Gefühl, dass sie Zeit zum Zuhören hatten.",
}


@pytest.fixture
def admin(client, db):
    user = make_user("admin")
    login(client, user)
    return user


def _item(db, key):
    db.session.expire_all()
    return db.session.execute(select(Item).where(Item.key == key)).scalar_one_or_none()


def _events(db, action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def _customer_page(client, survey, language=None):
    """The survey page a new customer of `survey` sees (in `language` when given)."""
    _, token = make_invitation(survey, make_team(), language=language)
    assert open_link(client, token).status_code == 303
    page = client.get("/s/answer")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _reword(client, key, **changes):
    item = _item(_db, key)
    data = {"customer": item.customer_text, "staff": item.staff_text, "leader": item.leader_text}
    data.update(changes)
    return post_form(client, f"/admin/items/{key}", data)


def test_admins_only(client, db):
    for role in ("staff", "leader"):
        with client.application.test_client() as other:
            login(other, make_user(role))
            assert other.get("/admin/items").status_code == 403
            assert other.get("/admin/items/trust_believed").status_code == 403
    login(client, make_user("admin"))
    assert client.get("/admin/items/no_such_item").status_code == 404
    assert b"Questions" in client.get("/admin/").data


def test_admin_adds_a_dimension_and_renames_it(client, db, admin):
    response = post_form(client, "/admin/dimensions/new", {"key": "", "name": "Fair pricing",
                                                           "description": "Customers feel charged fairly."})
    assert response.status_code == 302
    dimension = db.session.execute(select(Dimension).where(Dimension.key == "fair_pricing")).scalar_one()
    assert dimension.name == "Fair pricing"
    assert dimension.position == max(d.position for d in db.session.execute(select(Dimension)).scalars())
    response = post_form(client, "/admin/dimensions/fair_pricing", {"name": "Fair prices", "description": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (dimension.key, dimension.name) == ("fair_pricing", "Fair prices")
    [created], [renamed] = _events(db, "dimension.created"), _events(db, "dimension.renamed")
    assert created.actor_id == renamed.actor_id == admin.id
    assert renamed.details == {"key": "fair_pricing", "previous_name": "Fair pricing", "name": "Fair prices"}
    assert "Fair prices" in client.get("/admin/items").get_data(as_text=True)


def test_dimension_form_refusals(client, db, admin):
    for data, message in (
        ({"key": "Fair-Pricing", "name": "Fair"}, "lowercase letters a–z"),
        ({"key": "trust", "name": "Trust again"}, "already used by another dimension"),
        ({"key": "", "name": "Trust"}, "already called"),
        ({"key": "fair", "name": ""}, "Please give the dimension a name."),
    ):
        response = post_form(client, "/admin/dimensions/new", data, form_url="/admin/dimensions/new")
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    assert not _events(db, "dimension.created")


def test_admin_adds_an_item_that_a_new_wave_offers_and_customers_read_in_both_languages(client, db, admin):
    response = post_form(client, "/admin/items/new", NEW_ITEM)
    assert response.status_code == 302
    item = _item(db, "kindness_listened")
    assert (item.dimension.key, item.version, item.retired_at) == ("kindness", 1, None)
    assert item.position == 3  # after the two built-in kindness items
    [version] = item.versions
    assert version.customer_translations == {"de": NEW_ITEM["customer_de"]}
    [event] = _events(db, "item.created")
    assert event.actor_id == admin.id and event.details["key"] == "kindness_listened"

    new_wave = client.get("/leaders/surveys/new").get_data(as_text=True)
    assert NEW_ITEM["customer"] in new_wave
    survey = make_survey("with-new-item", items=[item])
    assert NEW_ITEM["customer"] in _customer_page(client, survey)
    with client.application.test_client() as customer:
        assert NEW_ITEM["customer_de"] in _customer_page(customer, survey, language="de")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"customer": "   "}, "customer", "Please write the customers"),
    ({"staff": ""}, "staff", "Please write the staff wording"),
    ({"key": "trust_believed"}, "key", "already used by another item"),
    ({"key": "Kindness-Listened"}, "key", "lowercase letters a–z"),
    ({"key": "kindness2"}, "key", "lowercase letters a–z"),
    ({"key": "comment"}, "key", "column of the import file"),
    ({"key": ""}, "key", "Please give the item a key"),
])
def test_item_form_refusals(client, db, admin, changes, field, message):
    response = post_form(client, "/admin/items/new", NEW_ITEM | changes)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-errors"' in page
    keys = ["kindness_listened", "Kindness-Listened", "kindness2"]
    assert db.session.execute(select(Item).where(Item.key.in_(keys))).first() is None
    assert not _events(db, "item.created")


def test_rewording_keeps_the_wording_an_open_wave_asks_and_new_waves_ask_the_new_one(client, db, admin):
    item = bank_items(1)[0]
    old_customer, old_staff = item.customer_text, item.staff_text
    opened = make_survey("opened-before", items=[item])  # open, not yet answered
    make_survey("draft-before", status="draft", items=[item])
    answered_draft = make_survey("answered-draft", status="draft", items=[item])
    make_responses(answered_draft, 1, team=make_team())
    new_customer = "The staff made me feel trusted from the first word."
    new_staff = "I make customers feel trusted from the first word."
    assert _reword(client, item.key, customer=new_customer, staff=new_staff).status_code == 302

    item = _item(db, item.key)
    assert (item.version, item.customer_text) == (2, new_customer)
    assert [v.number for v in item.versions] == [1, 2]
    [event] = _events(db, "item.reworded")
    assert event.details["version"] == 2 and event.details["waves_kept_on_previous"] == 2
    assert [(i.key, i.version, i.customer_text) for i in wave_items(answered_draft)] == [(item.key, 1, old_customer)]

    assert old_customer in _customer_page(client, opened) and new_customer not in _customer_page(client, opened)
    manage = client.get("/leaders/surveys/opened-before").get_data(as_text=True)
    assert old_customer in manage and old_staff in manage and "v1" in manage
    staff = make_user("staff")
    with client.application.test_client() as staff_client:
        login(staff_client, staff)
        assert old_staff in staff_client.get("/staff/surveys/opened-before").get_data(as_text=True)
    # A draft nobody answered follows the bank until it opens; a wave made now asks the new wording.
    assert new_customer in client.get("/leaders/surveys/draft-before").get_data(as_text=True)
    later = make_survey("opened-after", items=[item])
    assert new_customer in _customer_page(client, later)

    # A second rewording keeps the first wave on version 1 and the later one on version 2.
    assert _reword(client, item.key, customer="The staff made me feel they believed me.").status_code == 302
    assert old_customer in _customer_page(client, opened)
    assert new_customer in _customer_page(client, later)
    history = client.get(f"/admin/items/{item.key}").get_data(as_text=True)
    assert "opened-before" in history and "opened-after" in history and "3 (current)" in history


def test_a_reworded_item_shows_german_only_once_translated(client, db, admin):
    item = bank_items(1)[0]
    catalogue = "Die Mitarbeitenden gaben mir das Gefühl, dass man mir vertraut: Sie nahmen mich beim Wort."
    before = make_survey("german-before", items=[item])
    assert catalogue in _customer_page_in_german(client, before)
    reworded = "The staff made me feel trusted from the first word."
    # The German field held the built-in translation of the old wording; emptied, customers see the English.
    assert _reword(client, item.key, customer=reworded, customer_de="").status_code == 302
    after = make_survey("german-after", items=[item])
    page = _customer_page_in_german(client, after)
    assert reworded in page and catalogue not in page
    assert catalogue in _customer_page_in_german(client, before)  # the old wave keeps its wording
    german = "Die Mitarbeitenden gaben mir vom ersten Wort an das Gefühl, dass man mir vertraut."
    assert _reword(client, item.key, customer=reworded, customer_de=german).status_code == 302
    assert german in _customer_page_in_german(client, after)
    item = _item(db, item.key)
    assert item.version == 2  # a translation is no new version
    [event] = _events(db, "item.translated")
    assert event.details == {"key": item.key, "version": 2, "languages": ["de"]}
    # Saving the same words again changes nothing and records nothing.
    assert _reword(client, item.key, customer=reworded, customer_de=german).status_code == 302
    assert len(_events(db, "item.translated")) == 1 and len(_events(db, "item.reworded")) == 1


def _customer_page_in_german(client, survey):
    with client.application.test_client() as customer:
        return _customer_page(customer, survey, language="de")


def test_translating_a_built_in_item_stores_it_without_a_new_version(client, db, admin):
    item = bank_items(1)[0]
    # An emptied field of a built-in item stores nothing: its built-in translation still shows.
    emptied = post_form(client, f"/admin/items/{item.key}", {
        "customer": item.customer_text, "staff": item.staff_text, "leader": item.leader_text, "customer_de": ""},
        follow_redirects=True)
    assert "Nothing changed." in emptied.get_data(as_text=True) and not _events(db, "item.translated")
    german = "Bei den Mitarbeitenden hatte ich das Gefühl, dass man mir glaubt."
    assert _reword(client, item.key, customer_de=german).status_code == 302
    version = db.session.execute(select(ItemVersion).where(ItemVersion.item_id == item.id)).scalar_one()
    assert version.customer_translations == {"de": german}
    assert not _events(db, "item.reworded") and len(_events(db, "item.translated")) == 1


def test_retired_items_are_offered_to_no_new_wave_but_old_waves_keep_them(client, db, admin):
    item = bank_items(1)[0]
    old = make_survey("old-wave", items=[item])
    token_form = "/admin/items"
    assert post_form(client, f"/admin/items/{item.key}/retire", {}, form_url=token_form).status_code == 302
    assert _item(db, item.key).retired_at is not None
    [event] = _events(db, "item.retired")
    assert event.actor_id == admin.id

    new_form = client.get("/leaders/surveys/new").get_data(as_text=True)
    assert f'value="{item.id}"' not in new_form
    refused = post_form(client, "/leaders/surveys/new", {"title": "Sneaky", "items": str(item.id), "ask_nps": "y"})
    assert refused.status_code == 400 and "Retired items cannot be asked" in refused.get_data(as_text=True)
    assert item.customer_text in _customer_page(client, old)
    assert item.customer_text in client.get("/leaders/surveys/old-wave").get_data(as_text=True)
    assert "retired" in client.get("/admin/items").get_data(as_text=True)

    assert post_form(client, f"/admin/items/{item.key}/restore", {}, form_url=token_form).status_code == 302
    assert _item(db, item.key).retired_at is None and len(_events(db, "item.restored")) == 1
    assert f'value="{item.id}"' in client.get("/leaders/surveys/new").get_data(as_text=True)


def test_the_estimate_is_on_the_wave_form_and_the_customer_page(client, db, admin):
    form = client.get("/leaders/surveys/new").get_data(as_text=True)
    assert "about <strong data-estimate-minutes>3 minutes</strong>" in form  # 16 statements, the 0-10 question
    survey = make_survey("sixteen", items=bank_items())
    assert "It takes about 3 minutes on a phone." in _customer_page(client, survey)
    assert "under a minute" not in _customer_page(client, survey)
    with client.application.test_client() as customer:
        assert "Auf dem Handy dauert es etwa 3 Minuten." in _customer_page(customer, survey, language="de")
    short = make_survey("one", items=bank_items(1), ask_nps=False)
    assert "It takes about 1 minute on a phone." in _customer_page(client, short)
