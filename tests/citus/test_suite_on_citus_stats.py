"""The stats read path on the Citus cluster (the fixtures of tests/citus/conftest.py): the
grants and policies on the `stats` reference tables and on the tenant tables the refresh
reads, the analyst and the supervisor through GraphQL, and the refresh's own statements (a
REPEATABLE READ read of every shard as `kizuna_stats`, then the reference tables replaced
from arrays). Not repeated here: the SDL walk (no database) and serve's schedule (the same
refresh, in a process of its own)."""

from kizuna.tests.test_stats_read_path import (  # noqa: F401
    TestASuppressedCount,
    TestEveryOtherRoleInSql,
    TestTheAnalystInSql,
    TestTheStatsRole,
    TestTheSupervisorInSql,
    TestThroughGraphQL,
    an_earlier_year,
    figures,
)
from kizuna.tests.test_stats_refresh import (  # noqa: F401
    referrals,
    refreshed,
    test_a_refresh_reading_every_tenant_never_makes_a_writer_wait,
    test_a_refresh_with_nothing_changed_publishes_the_same_edition,
    test_figures_never_go_back_in_time,
    test_it_publishes_each_prefecture_with_the_time_it_computed,
    test_readers_see_the_old_figures_or_the_new_never_a_mix,
    test_the_exact_audit_finds_nothing_in_the_publication,
    test_the_true_counts_of_an_edition_are_kept_for_the_refresh_alone,
    test_what_is_shown_is_the_true_count_and_never_a_small_one,
    test_within_an_interval_readers_keep_the_edition_in_force,
)
