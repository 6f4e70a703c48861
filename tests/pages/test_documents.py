"""The pages' registered GraphQL documents and the files pages load: every document is
one named operation that validates against the schema as it is exported, and the design
tokens are the Digital Agency's file, unchanged."""

from __future__ import annotations

import hashlib

import graphql
import pytest

from kizuna.schema.pages import documents, rendering
from kizuna.schema.root import build_schema

# @digital-go-jp/design-tokens 1.1.9 (MIT), dist/tokens.css as npm ships it
# (tarball integrity sha512-93zW/Gb4/pwb6…ph1DC0Crwp6bg==; `npm pack` it to compare).
TOKENS_SHA256 = "ec3fb5b1e881d1bdf076feff29fe15a32269353c7a9cef40194f1eff0c3d7a90"


def test_every_page_has_its_document() -> None:
    assert documents.registered() == [
        "case_create_support_plan",
        "case_move_stage",
        "case_page",
        "case_record_contact",
        "case_record_helper_visit",
        "case_request_approval",
        "dashboard",
        "inbox",
        "inbox_accept_referral",
        "inbox_create_person",
        "inbox_decline_referral",
        "inbox_merge_referral",
        "inbox_referral",
        "school_create_referral",
        "school_referral",
        "school_referral_form",
        "school_referrals",
        "school_revoke_referral",
        "supervisor_audit",
        "supervisor_decide_approval",
        "supervisor_desk",
        "supervisor_grant_choices",
        "supervisor_grant_membership",
        "supervisor_revoke_membership",
    ]


@pytest.mark.parametrize("name", documents.registered())
def test_a_registered_document_is_one_operation_that_validates(name: str) -> None:
    document = documents.document(name)
    parsed = graphql.parse(document.text)
    assert graphql.validate(build_schema()._schema, parsed) == []
    (operation,) = [d for d in parsed.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    # A page reads (a query); a form changes something (a mutation); never a subscription.
    assert operation.operation in (graphql.OperationType.QUERY, graphql.OperationType.MUTATION)
    assert operation.name is not None
    assert operation.name.value == document.operation


def test_the_design_tokens_are_the_published_file() -> None:
    tokens = (rendering.STATIC_DIR / "design-tokens" / "tokens.css").read_bytes()
    assert hashlib.sha256(tokens).hexdigest() == TOKENS_SHA256
    licence = (rendering.STATIC_DIR / "design-tokens" / "LICENSE").read_text()
    assert "MIT License" in licence
    assert "デジタル庁" in licence
