"""tests/test_auth_tokens.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py)."""

from kizuna.tests.test_auth_tokens import *  # noqa: F403
