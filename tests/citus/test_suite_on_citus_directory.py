"""tests/test_directory.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_directory import *  # noqa: F403
