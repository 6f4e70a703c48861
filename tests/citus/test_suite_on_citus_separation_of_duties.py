"""tests/test_separation_of_duties.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_separation_of_duties import *  # noqa: F403
