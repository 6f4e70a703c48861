"""tests/test_case_records.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_case_records import *  # noqa: F403
