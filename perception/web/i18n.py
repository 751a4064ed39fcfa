"""Languages of the customer pages.

Only customers' pages are translated (staff and leaders work in English). The language of a
customer page is, in order: the one the customer picked with `?lang=` (kept in the session),
the invitation's `language`, the browser's Accept-Language, English.

Interface strings live in the gettext domain `messages`; the customer wordings of items live in
the domain `items`, keyed by item key (msgctxt) and English wording (msgid), so a new item with
no translation yet simply shows in English. Catalogues: perception/translations/<lang>/LC_MESSAGES;
the compiled .mo files are committed (`make translations` rebuilds them)."""

from babel import Locale
from flask import g, request, session
from flask_babel import Domain, force_locale, get_locale
from sqlalchemy.exc import SQLAlchemyError

from perception.core.database import session_id
from perception.core.extensions import babel, db
from perception.core.models import Invitation
from perception.web.customer import SESSION_KEY as INVITATION_KEY

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
CUSTOMER_BLUEPRINTS = {"survey"}
SESSION_KEY = "customer_language"
item_wordings = Domain(domain="items")


def supported(code):
    """'de-AT' or 'DE' -> 'de' when we ship it, else None."""
    if not code:
        return None
    code = str(code).replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else None


def _is_customer_page():
    return request.blueprint in CUSTOMER_BLUEPRINTS


def remember_invitation_language(invitation_id, language):
    """Called by whoever has just read the invitation of a customer page, so choosing the page's
    language does not read it again."""
    g.customer_invitation_language = (invitation_id, language)


def _invitation_language():
    invitation_id = session_id(session.get(INVITATION_KEY))
    if not invitation_id:
        return None
    known = g.get("customer_invitation_language")
    if known is not None and known[0] == invitation_id:
        return supported(known[1])


    try:
        invitation = db.session.get(Invitation, invitation_id)
    except SQLAlchemyError:
        # The database is down: the "please try again" page must still render, in the browser's language.
        db.session.rollback()
        return None
    return supported(getattr(invitation, "language", None)) if invitation else None


def select_language():
    if not _is_customer_page():
        return DEFAULT_LANGUAGE
    return (
        supported(session.get(SESSION_KEY))
        or _invitation_language()
        or request.accept_languages.best_match(LANGUAGES)
        or DEFAULT_LANGUAGE
    )


_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def _locale_selector():
    """`select_language` as a parsed Locale, parsed once per process rather than per request."""
    code = select_language()
    return _LOCALES.get(code, code)


def current_language():
    return str(get_locale() or DEFAULT_LANGUAGE)


def customer_item_text(item):
    """The item's customer wording in the page's language: the translation stored with the item's
    version (`item.translations`, {language: wording} or its pairs), else the `items` catalogue's for
    exactly this English wording (the built-in items), else the English."""
    stored = dict(item.translations or ()).get(current_language())
    return stored or item_wordings.pgettext(item.key, item.customer_text)


def catalogue_item_translation(key, english, language):
    """The `items` catalogue's translation of this exact English wording into `language`, or None."""
    with force_locale(language):
        translated = item_wordings.pgettext(key, english)
    return translated if translated != english else None


def remember_chosen_language():
    """`?lang=de` on a customer page switches the language for the rest of the visit."""
    if _is_customer_page() and "lang" in request.args:
        chosen = supported(request.args["lang"])
        if chosen:
            session[SESSION_KEY] = chosen


def init_app(app):
    babel.init_app(app, locale_selector=_locale_selector)
    app.before_request(remember_chosen_language)

    @app.context_processor
    def inject_language():
        return {"lang": current_language(), "languages": LANGUAGES}
