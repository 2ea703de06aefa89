"""The OpenAPI document is complete: every staff action typed, errors declared, Chinese examples."""

from __future__ import annotations

import re

from api.main import create_app
from domain.events import ACTION_SCHEMAS

CJK = re.compile(r"[\u4e00-\u9fff]")


def spec() -> dict:
    return create_app().openapi()


def test_every_staff_action_has_a_typed_endpoint_with_its_errors():
    paths = spec()["paths"]
    for event, schema in ACTION_SCHEMAS.items():
        operation = paths[f"/cases/{{case_id}}/{event.replace('_', '-')}"]["post"]
        assert operation["operationId"] == event
        body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body_ref.endswith("/" + schema.__name__)
        assert {"200", "404", "409", "422"} <= set(operation["responses"])


def test_reads_and_downloads_are_documented():
    paths = spec()["paths"]
    for path in ["/cases", "/cases/{case_id}", "/cases/{case_id}/history", "/cases/{case_id}/allowed-events",
                 "/cases/{case_id}/documents", "/documents/{document_id}", "/documents/{document_id}/pdf"]:
        assert "get" in paths[path], path
    assert "application/pdf" in paths["/documents/{document_id}/pdf"]["get"]["responses"]["200"]["content"]


def test_examples_are_in_chinese():
    document = spec()
    register = document["paths"]["/cases"]["post"]["requestBody"]["content"]["application/json"]
    example = next(iter(register["examples"].values()))["value"]
    assert CJK.search(example["facts"]) and CJK.search(example["patient"]["name"])
    schemas = document["components"]["schemas"]
    for name in ["DraftAgreement", "Terminate", "RecordConsent", "Sign"]:
        text = str(schemas[name])
        assert CJK.search(text), name


def test_amounts_are_decimal_strings_not_floats():
    schemas = spec()["components"]["schemas"]
    assert schemas["CaseCreate"]["properties"]["claim_amount"]["type"] == "string"
    assert schemas["CasePublic"]["properties"]["claim_amount"]["type"] == "string"
