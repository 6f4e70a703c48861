"""The case workflow and the helper-dispatch rules (schema/cases/workflow.py, dispatch_rules.py)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kizuna.platform.i18n import Language
from kizuna.platform.vocabulary import (
    ApprovalSubject,
    CarerCategory,
    CareTask,
    CaseEventKind,
    CaseStage,
    DispatchStatus,
)
from kizuna.schema.cases import dispatch_rules, workflow
from kizuna.schema.cases.dispatch_rules import ServicePeriod, add_months, check_extension, check_period, check_visit
from kizuna.schema.cases.workflow import Rule, check_transition

S, D = CaseStage, DispatchStatus
PLAN, CLOSURE = ApprovalSubject.SUPPORT_PLAN, ApprovalSubject.CLOSURE
# The flow of seed 002, written out here rather than read from the module under test.
ALLOWED = {
    (S.INTAKE, S.SHARING): None,
    (S.SHARING, S.GATHERING): None,
    (S.GATHERING, S.CONFERENCE): None,
    (S.CONFERENCE, S.MULTI_AGENCY_MEETING): None,
    (S.CONFERENCE, S.SUPPORT): PLAN,
    (S.MULTI_AGENCY_MEETING, S.SUPPORT): PLAN,
    (S.SUPPORT, S.MONITORING): None,
    (S.MONITORING, S.SUPPORT): PLAN,
    (S.MONITORING, S.CLOSED): CLOSURE,
    (S.CLOSED, S.SUPPORT): PLAN,
}
REFUSED = [(a, b) for a, b in itertools.product(S, S) if a is not b and (a, b) not in ALLOWED]


class TestTransitions:
    @pytest.mark.parametrize(("source", "target"), list(ALLOWED))
    def test_an_allowed_edge_passes_with_its_approval(self, source: CaseStage, target: CaseStage) -> None:
        approval = ALLOWED[source, target]
        assert check_transition(source, target, approved=[approval] if approval else []) is None
        assert workflow.needs_approval(source, target) is approval
        assert target in {t.target for t in workflow.allowed_transitions(source)}

    @pytest.mark.parametrize(("source", "target"), [edge for edge, approval in ALLOWED.items() if approval])
    def test_an_edge_needing_approval_is_refused_without_it(self, source: CaseStage, target: CaseStage) -> None:
        other = CLOSURE if ALLOWED[source, target] is PLAN else PLAN
        refusal = check_transition(source, target, approved=[other])
        assert refusal is not None
        assert (refusal.rule, refusal.field) == (Rule.APPROVAL_REQUIRED, "toStage")

    @pytest.mark.parametrize(("source", "target"), REFUSED)
    def test_every_other_move_is_refused(self, source: CaseStage, target: CaseStage) -> None:
        # even with every approval in hand
        refusal = check_transition(source, target, approved=list(ApprovalSubject))
        assert refusal is not None
        assert (refusal.rule, refusal.field) == (Rule.TRANSITION_NOT_ALLOWED, "toStage")
        assert workflow.transition(source, target) is None
        assert workflow.needs_approval(source, target) is None

    @pytest.mark.parametrize("stage", list(S))
    def test_staying_in_a_stage_is_not_a_move(self, stage: CaseStage) -> None:
        refusal = check_transition(stage, stage, approved=list(ApprovalSubject))
        assert refusal is not None
        assert refusal.rule is Rule.ALREADY_IN_STAGE

    def test_the_graph_is_the_flow(self) -> None:
        assert {(t.source, t.target) for t in workflow.TRANSITIONS} == set(ALLOWED)
        assert workflow.INITIAL_STAGE is S.INTAKE
        reopen = workflow.transition(S.CLOSED, S.SUPPORT)
        assert reopen is not None
        assert reopen.event is CaseEventKind.REOPENED
        others = {t.event for t in workflow.TRANSITIONS if t is not reopen}
        assert others == {CaseEventKind.STAGE_CHANGED}
        # every stage is reachable from intake, and every stage but closed leads on
        reached, frontier = {S.INTAKE}, [S.INTAKE]
        while frontier:
            for edge in workflow.allowed_transitions(frontier.pop()):
                if edge.target not in reached:
                    reached.add(edge.target)
                    frontier.append(edge.target)
        assert reached == set(S)

    def test_a_refusal_reads_in_both_languages(self) -> None:
        refusal = check_transition(S.INTAKE, S.CLOSED)
        assert refusal is not None
        assert refusal.message.in_(Language.JA, **refusal.params).endswith("。")
        assert refusal.message.in_(Language.EN, **refusal.params).startswith("The case")


class TestCategory:
    BIRTH = dt.date(2008, 6, 15)

    @pytest.mark.parametrize(
        ("on", "category"),
        [
            (dt.date(2026, 6, 14), CarerCategory.YOUNG_CARER),  # the day before the 18th birthday
            (dt.date(2026, 6, 15), CarerCategory.YOUNG_ADULT_CARER),  # no gap: the birthday itself
            (dt.date(2030, 1, 1), CarerCategory.YOUNG_ADULT_CARER),
        ],
    )
    def test_a_young_carer_becomes_a_young_adult_carer_at_18(self, on: dt.date, category: CarerCategory) -> None:
        assert workflow.category_at(CarerCategory.YOUNG_CARER, self.BIRTH, on) is category

    def test_a_leap_day_birthday_comes_on_the_first_of_march(self) -> None:
        born = dt.date(2008, 2, 29)
        assert workflow.category_at(CarerCategory.YOUNG_CARER, born, dt.date(2026, 2, 28)) is CarerCategory.YOUNG_CARER
        adult = CarerCategory.YOUNG_ADULT_CARER
        assert workflow.category_at(CarerCategory.YOUNG_CARER, born, dt.date(2026, 3, 1)) is adult

    @pytest.mark.parametrize("category", [c for c in CarerCategory if c is not CarerCategory.YOUNG_CARER])
    def test_other_categories_do_not_change_with_age(self, category: CarerCategory) -> None:
        assert workflow.category_at(category, dt.date(1960, 1, 1), dt.date(2026, 1, 1)) is category
        assert workflow.category_at(category, self.BIRTH, dt.date(2020, 1, 1)) is category


DISPATCH_FLOW = [D.APPLIED, D.SURVEYED, D.PLANNED, D.DECIDED, D.IN_SERVICE, D.MONITORING, D.ENDED]
# Monitoring returns to the service; a dispatch may end at any step (an application withdrawn).
DISPATCH_ALLOWED = {
    *itertools.pairwise(DISPATCH_FLOW),
    (D.MONITORING, D.IN_SERVICE),
    *((status, D.ENDED) for status in D if status is not D.ENDED),
}


class TestDispatchSteps:
    @pytest.mark.parametrize(("source", "target"), sorted(DISPATCH_ALLOWED))
    def test_the_flow_of_seed_002(self, source: DispatchStatus, target: DispatchStatus) -> None:
        assert dispatch_rules.check_dispatch_step(source, target) is None

    @pytest.mark.parametrize(("source", "target"), [p for p in itertools.product(D, D) if p not in DISPATCH_ALLOWED])
    def test_no_step_skipped_or_taken_back(self, source: DispatchStatus, target: DispatchStatus) -> None:
        refusal = dispatch_rules.check_dispatch_step(source, target)
        assert refusal is not None
        assert (refusal.rule, refusal.field) == (Rule.DISPATCH_STEP_NOT_ALLOWED, "status")


class TestPeriod:
    START = dt.date(2025, 8, 31)

    def test_six_months_at_most(self) -> None:
        assert add_months(self.START, 6) == dt.date(2026, 2, 28)  # clamped, as PostgreSQL does
        assert check_period(self.START, dt.date(2026, 2, 28)) is None
        refusal = check_period(self.START, dt.date(2026, 3, 1))
        assert refusal is not None
        assert (refusal.rule, refusal.field, refusal.params) == (Rule.PERIOD_TOO_LONG, "periodEnd", {"months": 6})

    @pytest.mark.parametrize("end", [START, START - dt.timedelta(days=1)])
    def test_the_end_comes_after_the_start(self, end: dt.date) -> None:
        refusal = check_period(self.START, end)
        assert refusal is not None
        assert refusal.rule is Rule.PERIOD_NOT_AFTER_START

    def test_an_extension_lasts_at_most_six_months_past_the_current_end(self) -> None:
        period = ServicePeriod(dt.date(2025, 4, 1), dt.date(2025, 9, 30))
        assert check_extension(period, dt.date(2026, 3, 30)) is None
        too_long = check_extension(period, dt.date(2026, 3, 31))
        assert too_long is not None
        assert (too_long.rule, too_long.field) == (Rule.EXTENSION_TOO_LONG, "extendedUntil")
        extended = ServicePeriod(period.start, period.end, dt.date(2025, 12, 31))
        assert check_extension(extended, dt.date(2026, 6, 30)) is None  # extended again
        for until in (dt.date(2025, 12, 31), dt.date(2025, 10, 15)):
            earlier = check_extension(extended, until)
            assert earlier is not None
            assert earlier.rule is Rule.EXTENSION_NOT_AFTER_END


class TestVisits:
    PERIOD = ServicePeriod(dt.date(2025, 4, 7), dt.date(2025, 10, 6))  # Monday to Monday
    MONDAY = dt.date(2025, 6, 2)

    @pytest.mark.parametrize(("minutes", "allowed"), [(0, False), (1, True), (120, True), (121, False)])
    def test_at_most_two_hours(self, minutes: int, allowed: bool) -> None:
        refusal = check_visit(self.PERIOD, self.MONDAY, minutes, [])
        assert (refusal is None) is allowed
        if refusal is not None:
            assert (refusal.rule, refusal.field, refusal.params) == (Rule.VISIT_MINUTES, "minutes", {"max": 120})

    @pytest.mark.parametrize(
        ("earlier", "allowed"),
        [
            (dt.date(2025, 6, 1), True),  # the Sunday before: last week
            (dt.date(2025, 6, 2), False),  # the same day
            (dt.date(2025, 6, 8), False),  # the Sunday after: the same ISO week
            (dt.date(2025, 6, 9), True),  # the next Monday
        ],
    )
    def test_at_most_one_visit_per_iso_week(self, earlier: dt.date, allowed: bool) -> None:
        refusal = check_visit(self.PERIOD, self.MONDAY, 90, [dt.date(2025, 5, 1), earlier])
        assert (refusal is None) is allowed
        if refusal is not None:
            assert (refusal.rule, refusal.field) == (Rule.SECOND_VISIT_IN_WEEK, "visitedOn")

    def test_the_iso_week_spans_the_new_year(self) -> None:
        period = ServicePeriod(dt.date(2025, 12, 1), dt.date(2026, 5, 31))
        # 29 December 2025 (Monday) and 1 January 2026 (Thursday) are both in 2026-W01
        refusal = check_visit(period, dt.date(2026, 1, 1), 60, [dt.date(2025, 12, 29)])
        assert refusal is not None
        assert refusal.rule is Rule.SECOND_VISIT_IN_WEEK

    @pytest.mark.parametrize(
        ("day", "extended_until", "allowed"),
        [
            (dt.date(2025, 4, 6), None, False),  # the day before the period
            (dt.date(2025, 4, 7), None, True),  # its first day
            (dt.date(2025, 10, 6), None, True),  # its last day
            (dt.date(2025, 10, 7), None, False),
            (dt.date(2025, 10, 7), dt.date(2026, 1, 6), True),  # within the extension
            (dt.date(2026, 1, 6), dt.date(2026, 1, 6), True),
            (dt.date(2026, 1, 7), dt.date(2026, 1, 6), False),
        ],
    )
    def test_within_the_decided_period(self, day: dt.date, extended_until: dt.date | None, allowed: bool) -> None:
        period = ServicePeriod(self.PERIOD.start, self.PERIOD.end, extended_until)
        refusal = check_visit(period, day, 120, [])
        assert (refusal is None) is allowed
        if refusal is not None:
            assert (refusal.rule, refusal.field) == (Rule.VISIT_OUTSIDE_PERIOD, "visitedOn")
            last = (extended_until or self.PERIOD.end).isoformat()
            assert refusal.message.in_(Language.EN, **refusal.params).endswith(f"(2025-04-07 to {last}).")

    def test_no_visit_before_the_decision(self) -> None:
        refusal = check_visit(None, self.MONDAY, 60, [])
        assert refusal is not None
        assert (refusal.rule, refusal.field) == (Rule.VISIT_OUTSIDE_PERIOD, "visitedOn")

    @pytest.mark.parametrize(
        ("tasks", "allowed"),
        [
            ({CareTask.HOUSEWORK}, True),
            ({CareTask.SIBLING_CARE, CareTask.WATCHING_OVER}, True),
            (set(), False),  # every visit names what was done
            ({CareTask.HOUSEWORK, CareTask.PERSONAL_CARE}, False),  # not 家事・育児支援
            ({CareTask.INTERPRETING}, False),
        ],
    )
    def test_tasks_are_what_the_service_provides(self, tasks: set[CareTask], allowed: bool) -> None:
        refusal = dispatch_rules.check_visit_tasks(tasks)
        assert (refusal is None) is allowed
        if refusal is not None:
            assert (refusal.rule, refusal.field) == (Rule.VISIT_TASKS, "tasks")


@pytest.mark.parametrize(("days_after", "allowed"), [(-1, False), (0, True), (3, True)])
def test_each_step_is_dated_no_earlier_than_the_one_before(days_after: int, allowed: bool) -> None:
    applied = dt.date(2026, 1, 5)
    refusal = dispatch_rules.check_step_date(applied, applied + dt.timedelta(days=days_after), "surveyedOn")
    assert (refusal is None) is allowed
    if refusal is not None:
        assert (refusal.rule, refusal.field, refusal.params) == (
            Rule.DATE_BEFORE_PREVIOUS_STEP,
            "surveyedOn",
            {"previous": "2026-01-05"},
        )
