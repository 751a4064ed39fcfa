"""The JSON API under /api/v1 (DESIGN section 3): its routes (views.py), strict input (forms.py), anonymous
rows (queries.py), idempotent invitations (service.py) and the OpenAPI document (openapi.py). The blueprint
and its token policy are perception.web.api."""
