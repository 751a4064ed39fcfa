"""The hot records of perception.insights store their fields straight into __dict__ (a hand-written
__init__, see stats.Summary): each stays a frozen dataclass whose __init__ takes exactly its fields,
in order and with their defaults, and sets every one of them."""

import dataclasses
import inspect

import pytest

from perception.insights.report import CellReport
from perception.insights.stats import GapStats, PerspectiveStats, Summary

RECORDS = (Summary, PerspectiveStats, GapStats, CellReport)

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__name__)
def test_init_takes_the_fields_in_order_with_their_defaults(record):
    parameters = list(inspect.signature(record.__init__).parameters.values())[1:]
    fields = dataclasses.fields(record)
    assert [parameter.name for parameter in parameters] == [field.name for field in fields]
    for parameter, field in zip(parameters, fields, strict=True):
        expected = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
        assert parameter.default == expected, field.name
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__name__)
def test_every_field_is_set_and_the_record_stays_frozen(record):
    fields = dataclasses.fields(record)
    values = {field.name: f"value of {field.name}" for field in fields}
    made = record(**values)
    assert {field.name: getattr(made, field.name) for field in fields} == values
    assert made == record(*values.values())
    assert made != record(**(values | {fields[-1].name: "another"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, fields[0].name, "changed")
    replaced = {fields[0].name: "replaced"}
    assert dataclasses.replace(made, **replaced) == record(**(values | replaced))
