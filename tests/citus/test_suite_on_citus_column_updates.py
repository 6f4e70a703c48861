"""tests/test_column_updates.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py):
the column grants of 0028 propagate to every shard."""

from kizuna.tests.test_column_updates import *  # noqa: F403
