"""tests/test_cost.py's capped history, run on the Citus cluster (the fixtures of
tests/citus/conftest.py): its windowed statement must route to one shard."""

from kizuna.tests.test_cost import TestHistoryIsCapped

__all__ = ["TestHistoryIsCapped"]
