"""The item bank for admins, `/admin/items` and `/admin/dimensions`: add and rename dimensions;
add, reword, translate, retire and restore items. Rules in bank_service, reads in bank_queries."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from perception.surveys.bank_forms import DimensionForm, item_form
from perception.surveys.bank_queries import (
    dimension_or_404,
    item_or_404,
    shown_translations,
    version_history,
    wave_counts,
    whole_bank,
)
from perception.surveys.bank_service import (
    TRANSLATED,
    BankError,
    create_dimension,
    create_item,
    current_version,
    edit_item,
    rename_dimension,
    restore_item,
    retire_item,
)
from perception.surveys.forms import ActionForm
from perception.web.admin import bp as admin
from perception.web.i18n import LANGUAGES


def _refused(form, error):
    """Show a refusal next to its field; returns the message when it concerns the whole change."""
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
        return None
    return str(error)


def _page(template, form, **context):
    refusal = context.pop("refusal", None)
    status = 400 if form.errors or refusal else 200
    return render_template(template, form=form, refusal=refusal, languages=LANGUAGES, translated=TRANSLATED,
                           **context), status


@admin.get("/items")
def item_bank():
    return render_template("surveys/bank.html", bank=whole_bank(), waves=wave_counts(), form=ActionForm(),
                           translated=TRANSLATED, languages=LANGUAGES)


@admin.route("/items/new", methods=["GET", "POST"])
def new_item():
    bank = whole_bank()
    form = item_form([dimension for dimension, _ in bank])
    if not form.is_submitted() and request.args.get("dimension"):
        form.dimension.data = request.args["dimension"]
    refusal = None
    if form.validate_on_submit():
        try:
            item = create_item(dimension_or_404(form.dimension.data), form.key.data, form.wording(), current_user)
        except BankError as error:
            refusal = _refused(form, error)
        else:
            flash(f"Item “{item.key}” added. New waves can ask it now.")
            return redirect(url_for("admin.item_bank") + f"#item-{item.key}")
    return _page("surveys/bank_item.html", form, item=None, history=(), refusal=refusal)


@admin.route("/items/<key>", methods=["GET", "POST"])
def edit_bank_item(key):
    item = item_or_404(key)
    version = current_version(item)
    shown = shown_translations(version, item.key)
    form = item_form()
    refusal = None
    if not form.is_submitted():
        form.fill_from(version, shown)
    elif form.validate():
        try:
            outcome = edit_item(item, form.wording(), current_user, known_translations=shown)
        except BankError as error:
            refusal = _refused(form, error)
        else:
            flash({"reworded": f"“{item.key}” reworded: version {item.version}. New waves ask it; waves already "
                               "open, closed or answered keep the wording they asked.",
                   "translated": f"The translation of “{item.key}” is saved.",
                   None: "Nothing changed."}[outcome])
            return redirect(url_for("admin.edit_bank_item", key=item.key))
    return _page("surveys/bank_item.html", form, item=item, history=version_history(item), refusal=refusal)


def _item_action(key, action, done):
    item = item_or_404(key)
    if ActionForm().validate_on_submit():
        try:
            action(item, current_user)
        except BankError as error:
            flash(str(error))
        else:
            flash(done.format(key=item.key))
    else:
        flash("The form had expired. Please try again.")
    return redirect(url_for("admin.item_bank") + f"#item-{item.key}")


@admin.post("/items/<key>/retire")
def retire_bank_item(key):
    return _item_action(key, retire_item, "“{key}” is retired: new waves cannot ask it; waves and reports that "
                                          "have it keep it.")


@admin.post("/items/<key>/restore")
def restore_bank_item(key):
    return _item_action(key, restore_item, "“{key}” is back in the bank: new waves can ask it again.")


@admin.route("/dimensions/new", methods=["GET", "POST"])
def new_dimension():
    form = DimensionForm()
    refusal = None
    if form.validate_on_submit():
        try:
            dimension = create_dimension(form.key.data, form.name.data, form.description.data, current_user)
        except BankError as error:
            refusal = _refused(form, error)
        else:
            flash(f"Dimension “{dimension.name}” added. Add its items next.")
            return redirect(url_for("admin.item_bank") + f"#dimension-{dimension.key}")
    return _page("surveys/bank_dimension.html", form, dimension=None, refusal=refusal)


@admin.route("/dimensions/<key>", methods=["GET", "POST"])
def edit_dimension(key):
    dimension = dimension_or_404(key)
    form = DimensionForm()
    del form.key  # a dimension's key never changes
    refusal = None
    if not form.is_submitted():
        form.name.data, form.description.data = dimension.name, dimension.description
    elif form.validate():
        try:
            rename_dimension(dimension, form.name.data, form.description.data, current_user)
        except BankError as error:
            refusal = _refused(form, error)
        else:
            flash(f"Dimension “{dimension.name}” saved.")
            return redirect(url_for("admin.item_bank") + f"#dimension-{dimension.key}")
    return _page("surveys/bank_dimension.html", form, dimension=dimension, refusal=refusal)
