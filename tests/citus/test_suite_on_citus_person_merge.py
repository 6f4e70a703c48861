"""tests/test_person_merge.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_person_merge import *  # noqa: F403
