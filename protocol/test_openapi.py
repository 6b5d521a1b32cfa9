"""Validates protocol/openapi.yaml (OpenAPI 3.1) and checks that it lists
exactly the backend API routes the Swift sources define.

Run from the repository root: python3 -m pytest protocol -q
"""

import re
from pathlib import Path

import yaml
from openapi_spec_validator import validate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "openapi.yaml"
ROUTE = re.compile(r'APIRoute\("(GET|POST|PUT|PATCH|DELETE)",\s*"(/api/v1/[^"]*)"')


def load_spec():
    with open(SPEC, encoding="utf-8") as f:
        return yaml.safe_load(f)


def swift_routes():
    routes = set()
    for path in (ROOT / "Sources").rglob("*.swift"):
        for method, pattern in ROUTE.findall(path.read_text(encoding="utf-8")):
            routes.add((method.lower(), pattern))
    return routes


def test_openapi_document_is_valid_3_1():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_route_in_the_sources_is_documented_and_nothing_else():
    spec = load_spec()
    documented = {(method, path) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "post", "put", "patch", "delete"}}
    assert swift_routes() == documented


def test_every_operation_names_its_scope_and_problem_responses():
    spec = load_spec()
    scopes = spec["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["scopes"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            required = op["security"][0]["clientCredentials"]
            assert len(required) == 1 and required[0] in scopes, (method, path)
            assert "401" in op["responses"] and "403" in op["responses"], (method, path)
