"""tests/test_people.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_people import *  # noqa: F403
