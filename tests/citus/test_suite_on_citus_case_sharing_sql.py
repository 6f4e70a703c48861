"""tests/test_case_sharing_sql.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_case_sharing_sql import *  # noqa: F403
