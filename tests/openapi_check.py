"""Checks API responses against the app's own OpenAPI document (JSON Schema 2020-12, as OpenAPI
3.1 uses), so the document cannot drift from what the API really answers."""

import re

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:perception-openapi"


def _pointer(*parts):
    return "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class OpenApiChecker:
    def __init__(self, document):
        self.document = document
        self.registry = Registry().with_resource(
            BASE, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.checked = []

    def operation(self, method, path):
        path = path.split("?")[0].removeprefix("/api/v1")
        for template, item in self.document["paths"].items():
            if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in item:
                return template, item[method.lower()]
        raise AssertionError(f"{method} {path} is not in the OpenAPI document")

    def validator(self, *parts):
        return Draft202012Validator({"$ref": f"{BASE}#/{_pointer(*parts)}"}, registry=self.registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    def check(self, method, path, response):
        template, operation = self.operation(method, path)
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method} {template} answered {status}, which the document does not list: {response.get_data(True)[:300]}"
        )
        documented = operation["responses"][status]
        assert response.mimetype == "application/json", response.mimetype
        assert "application/json" in documented.get("content", {}), f"{method} {template} {status} has no JSON body"
        self.validator("paths", template, method.lower(), "responses", status, "content", "application/json",
                       "schema").validate(response.get_json())
        for header in documented.get("headers", {}):
            assert header in response.headers, f"{method} {template} {status} lacks the documented {header} header"
        self.checked.append((method.upper(), template, status))
        return response


class Api:
    """Calls the API through the Flask test client and checks every answer against the document."""

    def __init__(self, client, checker, token=None):
        self.client, self.checker, self.token = client, checker, token

    def call(self, method, path, token=..., headers=None, **kwargs):
        token = self.token if token is ... else token
        headers = dict(headers or {})
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        return self.checker.check(method, path, response)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)
