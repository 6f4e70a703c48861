"""The stats read path on the Citus cluster (the fixtures of tests/citus/conftest.py): the
grants and policies on the `stats` reference tables and on the tenant tables the refresh
reads, the analyst and the supervisor through GraphQL, and the refresh's own statements (a
REPEATABLE READ read of every shard as `kizuna_stats`, then the reference tables replaced
from arrays). The SDL walk touches no database and is not repeated here."""

from kizuna.tests.test_stats_read_path import (  # noqa: F401
    TestASuppressedCount,
    TestEveryOtherRoleInSql,
    TestTheAnalystInSql,
    TestTheStatsRole,
    TestTheSupervisorInSql,
    TestThroughGraphQL,
    figures,
)
from kizuna.tests.test_stats_refresh import *  # noqa: F403
