"""The one shape of a refused input or change: a message for people and the field at fault, so that a
form shows it beside the field and the API names the field in its 4xx JSON. Each feature's error
subclasses it (WaveError, PeopleError, ...) and may name the field it concerns by default."""

_UNSET = object()


class FieldError(ValueError):
    """`field` names the form field or argument at fault (None: the input as a whole)."""

    default_field = None

    def __init__(self, message, field=_UNSET):
        super().__init__(message)
        self.field = self.default_field if field is _UNSET else field
