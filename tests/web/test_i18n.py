"""Customer pages in the customer's language: ?lang= choice, the invitation's language, the
browser's Accept-Language; complete, compiled catalogues; staff and leader pages stay English."""

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from perception.core.extensions import db as _db
from perception.core.models import utcnow
from perception.core.settings import ConfigError, load_config, local_url
from perception.web.i18n import DEFAULT_LANGUAGE, LANGUAGES
from tests.conftest import make_app
from tests.helpers import bank_items, login, make_invitation, make_survey, make_user, post_form

TRANSLATIONS = Path(__file__).resolve().parents[2] / "perception" / "translations"
OTHER_LANGUAGES = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.fixture
def survey(db):
    return make_survey(items=bank_items())


def _form(client, token, headers=None, query=""):
    client.get(f"/s/{token}{query}", headers=headers or {})
    return client.get("/s/answer", headers=headers or {})


def test_browser_language_picks_german_for_every_customer_string(client, db, survey):
    _invitation, token = make_invitation(survey)
    html = _form(client, token, GERMAN).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Wie haben wir Sie behandelt?" in html
    assert "Stimme voll zu" in html
    assert "Frage 1 von 16" in html
    assert "Meine Antworten senden" in html
    assert "Die Mitarbeitenden gaben mir das Gefühl, respektiert zu werden." in html
    for item in survey.items:
        assert item.customer_text not in html


def test_english_is_the_default_and_unknown_languages_fall_back(client, db, survey):
    _invitation, token = make_invitation(survey)
    html = _form(client, token, {"Accept-Language": "ja,zh;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "How did we treat you?" in html
    assert survey.items[0].customer_text in html


def test_lang_parameter_switches_and_sticks_for_the_visit(client, db, survey):
    _invitation, token = make_invitation(survey)
    assert "Wie haben wir" in _form(client, token, GERMAN).get_data(as_text=True)
    switched = client.get("/s/answer?lang=en", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="en">' in switched and "How did we treat you?" in switched
    # The choice outlives the query string, against the browser's preference.
    assert "How did we treat you?" in client.get("/s/answer", headers=GERMAN).get_data(as_text=True)
    assert "Wie haben wir" in client.get("/s/answer?lang=de").get_data(as_text=True)
    # An unsupported choice changes nothing.
    assert "Wie haben wir" in client.get("/s/answer?lang=xx").get_data(as_text=True)


def test_invitation_language_wins_over_browser_and_customer_choice_wins_over_both(client, db, survey):
    invitation, token = make_invitation(survey)
    invitation.language = "de-AT"
    db.session.commit()
    html = _form(client, token, {"Accept-Language": "en"}).get_data(as_text=True)
    assert "Wie haben wir Sie behandelt?" in html
    assert "How did we treat you?" in client.get("/s/answer?lang=en").get_data(as_text=True)


def test_validation_messages_thanks_and_link_pages_are_translated(client, db, survey):
    invitation, token = make_invitation(survey)
    client.get(f"/s/{token}?lang=de")
    refused = post_form(client, "/s/answer", {"comment": "x" * 5001}, form_url="/s/answer")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Bitte prüfen Sie 17 Antworten" in html
    assert "Bitte wählen Sie eine Antwort von 1 (stimme gar nicht zu) bis 5 (stimme voll zu)." in html
    assert "Bitte kürzen Sie Ihren Kommentar auf weniger als 5.000 Zeichen." in html
    data = {f"item_{item.key}": "4" for item in survey.items}
    assert post_form(client, "/s/answer", data).status_code == 303
    assert "Vielen Dank" in client.get("/s/thanks").get_data(as_text=True)
    assert "Sie haben bereits geantwortet" in client.get(f"/s/{token}").get_data(as_text=True)
    assert "Diese Umfrage haben wir nicht gefunden" in client.get("/s/not-a-real-token").get_data(as_text=True)
    invitation_2, token_2 = make_invitation(survey)
    invitation_2.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Diese Umfrage ist beendet" in client.get(f"/s/{token_2}").get_data(as_text=True)


def test_staff_pages_stay_english_whatever_the_browser_says(client, db, survey):
    staff = make_user("staff")
    login(client, staff)
    html = client.get(f"/staff/surveys/{survey.slug}?lang=de", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Strongly agree" in html and "Stimme voll" not in html


def test_language_switch_links_are_on_customer_pages(client, db, survey):
    _invitation, token = make_invitation(survey)
    html = _form(client, token).get_data(as_text=True)
    assert 'href="/s/answer?lang=de" lang="de" hreflang="de"' in html
    assert 'aria-current="true">English</a>' in html


def _marked_strings():
    """Every string marked for translation in the code and templates now (as `make translations` finds them)."""
    root = TRANSLATIONS.parents[1]
    method_map = [("perception/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in extract_from_dir(root, method_map, keywords=keywords)}


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_interface_string_is_translated_and_compiled(language):
    catalogue = _read(read_po, TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    wanted = _marked_strings()
    assert len(wanted) > 50
    translated = {
        (message.id if isinstance(message.id, str) else message.id[0])
        for message in catalogue
        if message.id and not message.fuzzy and all(message.string if isinstance(message.string, tuple)
                                                    else [message.string])
    }
    assert wanted - translated == set(), (
        f"run `make translations` and translate the new entries in perception/translations/{language}")
    _assert_compiled(catalogue, TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo")


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_item_wording_in_the_bank_is_translated(db, language):
    catalogue = _read(read_po, TRANSLATIONS / language / "LC_MESSAGES" / "items.po")
    translated = {(message.context, message.id) for message in catalogue if message.id and message.string}
    bank = {(item.key, item.customer_text) for item in bank_items()}
    assert len(bank) == 16
    assert bank - translated == set()
    _assert_compiled(catalogue, TRANSLATIONS / language / "LC_MESSAGES" / "items.mo")


def _read(reader, path):
    with path.open("rb") as handle:
        return reader(handle)


def _context(message):
    return message.context.decode() if isinstance(message.context, bytes) else message.context


def _entry(message):
    def flat(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return _context(message), flat(message.id), flat(message.string)


def _assert_compiled(catalogue, mo_path):
    """The committed .mo says what the .po says (`make translations` compiles)."""
    compiled = _read(read_mo, mo_path)
    expected = {_entry(m) for m in catalogue if m.id and m.string and not m.fuzzy}
    actual = {_entry(m) for m in compiled if m.id}
    assert actual == expected, f"{mo_path.name} is out of date: run `make translations`"


def test_logo_must_be_served_by_the_app():
    assert local_url("BUSINESS_LOGO_URL", "/static/img/logo-example.svg") == "/static/img/logo-example.svg"
    assert local_url("BUSINESS_LOGO_URL", "") is None
    for outside in ("https://cdn.example.com/logo.png", "//cdn.example.com/logo.png", "logo.png",
                    "javascript:alert(1)", "/\\evil.example"):
        with pytest.raises(ConfigError, match="served by this app"):
            local_url("BUSINESS_LOGO_URL", outside)


def test_logo_from_the_environment_shows_on_customer_pages(client, db, survey, monkeypatch, tmp_path, database):
    monkeypatch.setenv("BUSINESS_LOGO_URL", "https://cdn.example.com/logo.png")
    with pytest.raises(ConfigError):
        load_config(str(tmp_path))
    monkeypatch.setenv("BUSINESS_LOGO_URL", "/static/img/logo-example.svg")
    assert load_config(str(tmp_path))["BUSINESS_LOGO_URL"] == "/static/img/logo-example.svg"
    app = make_app(database, BUSINESS_LOGO_URL="/static/img/logo-example.svg", BUSINESS_NAME="Corner Bakery")
    try:
        logo_client = app.test_client()
        html = logo_client.get("/s/not-a-real-token").get_data(as_text=True)
        assert '<img class="brand-logo" src="/static/img/logo-example.svg" alt="">Corner Bakery' in html
        logo = logo_client.get("/static/img/logo-example.svg")
        assert logo.status_code == 200
        logo.close()
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
