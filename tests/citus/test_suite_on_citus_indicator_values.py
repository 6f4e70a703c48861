"""Indicator values on the Citus cluster (the fixtures of tests/citus/conftest.py): the
refresh's new reads of every shard as `kizuna_stats` (the indicators, a reference table;
accepted programme years; the prefecture's surveys) and its write of the
`stats.indicator_value` reference table, the join with `stats.publication` that
`indicators` runs, the policy and column grants on it, and the analyst's writes of the
prefecture's own programmes (a distributed table) reaching no municipality's rows. Not repeated here: the pure
progress and deadline arithmetic (no database)."""

from kizuna.tests.test_indicator_values import (  # noqa: F401
    TestInSql,
    TestTheRefresh,
    TestThroughGraphQL,
    refreshed,
    test_the_analyst_writes_no_municipalitys_programmes_in_sql,
)
