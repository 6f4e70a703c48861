"""tests/test_worklist_queries.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py):
new statement shapes (the filter on the worker or coordinator, the count grouped by stage,
the status filter, a window over the approvals of a page's cases), each with its tenant."""

from kizuna.tests.test_worklist_queries import *  # noqa: F403
