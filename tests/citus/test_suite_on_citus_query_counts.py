"""tests/test_query_counts.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_query_counts import *  # noqa: F403
