"""tests/test_trusted_documents.py on the Citus cluster (the fixtures of tests/citus/conftest.py):
the store is a reference table, written through the coordinator and read there by the
request path's login, and a document run by hash still keeps each tenant to its shard. Not
repeated here: the command's checks (no cluster involved), the settings and the rate limit
(in the server process)."""

from kizuna.tests.test_trusted_documents import (  # noqa: F401
    TestByHash,
    TestOnlyRegistered,
    only_registered,
    registered,
    send,
    test_the_request_path_only_reads_the_store,
)
