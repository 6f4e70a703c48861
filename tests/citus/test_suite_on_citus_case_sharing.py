"""tests/test_case_sharing.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_case_sharing import *  # noqa: F403
