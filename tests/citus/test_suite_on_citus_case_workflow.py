"""tests/test_case_workflow.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_case_workflow import *  # noqa: F403
