"""tests/test_submissions_sql.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py):
the prefecture's policies on its municipalities' shards, and row security on the indicators' reference table."""

from kizuna.tests.test_submissions_sql import *  # noqa: F403
