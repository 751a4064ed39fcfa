"""The trend's one plain sentence: the largest change since the previous wave that stays
significant after adjusting for every test of the page (Benjamini-Hochberg), or a sentence that
says no change stands out. It only chooses among figures of the trend document; it computes none."""

SIGNIFICANCE = 0.05


def _lower_first(name):
    if len(name) > 1 and name[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _points(value):
    return f"{value:.1f}".replace("-", "\u2212")


def _candidates(document):
    """(scope label, wave, previous wave, dimension change, kind) of every significant change."""
    series = [(document["filters"]["team"] or "The whole business", document["waves"])]
    series += [(entry["team"], entry["waves"]) for entry in document["teams"]]
    for label, waves in series:
        by_slug = {wave["survey"]: wave for wave in waves}
        for wave in waves:
            change = wave["change"]
            if change is None:
                continue
            for dimension in change["dimensions"]:
                for kind in ("gap", "customer_mean"):
                    test = dimension[kind]
                    adjusted = test.get("p_adjusted")
                    if adjusted is not None and adjusted < SIGNIFICANCE:
                        yield label, wave, by_slug[change["since"]], dimension, kind


def _figure(wave, key, kind):
    cell = next(cell for cell in wave["dimensions"] if cell["key"] == key)
    return cell["gap"]["value"] if kind == "gap" else cell["customer"]["mean"]


def largest_change(document):
    """The significant change with the largest size, or None."""
    found = list(_candidates(document))
    if not found:
        return None
    return max(found, key=lambda entry: abs(entry[3][entry[4]]["value"]))


def change_sentence(found):
    label, wave, previous, dimension, kind = found
    test = dimension[kind]
    before, after = _figure(previous, dimension["key"], kind), _figure(wave, dimension["key"], kind)
    name = _lower_first(dimension["name"])
    low, high = test["ci"]
    interval = f"95% CI of the change {_points(low)} to {_points(high)}, adjusted p = {test['p_adjusted']:.3f}"
    if kind == "gap":
        verb = "narrowed" if abs(after) < abs(before) else "widened"
        return (f"{label}: the gap on {name} {verb} from {_points(before)} to {_points(after)} points since "
                f"{previous['survey']} ({interval}).")
    verb = "rose" if after > before else "fell"
    return (f"{label}: customers' rating of {name} {verb} from {_points(before)} to {_points(after)} since "
            f"{previous['survey']} ({interval}).")


def trend_sentence(document):
    found = largest_change(document)
    if found is not None:
        return change_sentence(found)
    if document["tests"]:
        return (f"No change since the previous wave stands out: none of the {document['tests']} comparisons on "
                "this page is statistically significant once adjusted for their number.")
    if not document["waves"]:
        return "No wave has been opened yet: the trend starts with the first one."
    if len(document["waves"]) < 2:
        return "Only one wave so far: the trend needs a second wave to compare with."
    return (f"Too few responses to compare waves yet: customers and staff each need at least {document['min_n']} "
            "respondents on a dimension in two waves.")
