"""tests/test_case_assignment.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_case_assignment import *  # noqa: F403
