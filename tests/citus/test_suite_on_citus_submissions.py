"""tests/test_submissions.py, run on the Citus cluster (the fixtures of tests/citus/conftest.py):
the prefecture's statements over its municipalities' shards and the upserts of a year's figures."""

from kizuna.tests.test_submissions import *  # noqa: F403
