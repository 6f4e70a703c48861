"""Trusted documents (issue 18, item 5): the GraphQL documents clients may run by hash.

`kizuna.trusted_document` is a global table (no tenant, no personal data: the text of a
query or mutation, the name of the client that registered it). Its hash is the SHA-256 of
the document's UTF-8 text, which the table holds itself (a CHECK), whoever writes it. It
is written by the administrative role only (`kizuna documents register`, `remove`), and
read by the request path's login, `kizuna_app`, outside any request transaction: at a
server's start, and when a request names a hash the server has not seen yet. No app role
reads it. On Citus it is a reference table (deploy/citus/distribute.sql).

Revision ID: 0032
Revises: 0031
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE kizuna.trusted_document (
            hash varchar(64) NOT NULL,
            client text NOT NULL,
            document text NOT NULL,
            registered_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_trusted_document PRIMARY KEY (hash, client),
            CONSTRAINT ck_trusted_document_hash_is_the_documents CHECK (
                hash = encode(sha256(convert_to(document, 'UTF8')), 'hex')
            ),
            CONSTRAINT ck_trusted_document_client_length CHECK (char_length(btrim(client)) BETWEEN 1 AND 100),
            CONSTRAINT ck_trusted_document_document_present CHECK (document <> '')
        )"""
    )
    op.execute("GRANT SELECT ON kizuna.trusted_document TO kizuna_app")


def downgrade() -> None:
    op.execute("DROP TABLE kizuna.trusted_document")
