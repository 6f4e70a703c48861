"""tests/test_trusted_documents.py on the Citus cluster (the fixtures of tests/citus/conftest.py):
the store is a reference table, which the request path's login reads on the coordinator.
Not repeated here: the command's checks (no cluster involved)."""

from kizuna.tests.test_trusted_documents import test_the_request_path_only_reads_the_store  # noqa: F401
