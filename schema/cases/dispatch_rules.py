"""子育て世帯ヘルパー派遣 (helper dispatch), with the rules of seed 002.

application → joint survey visit with the coordinator → dispatch plan → decision notice →
visits → monitoring. A visit lasts at most 2 hours (１回２時間), a household gets at most
one a week (週１回を上限; an ISO week, Monday to Sunday), and only within the decided period:
6 months from the start of the service (支援開始から６か月), extendable (延長可). The service
is housework and childcare (家事・育児支援), so a visit's tasks are those of the care-task
vocabulary that it covers. Each step is dated no earlier than the one before; a dispatch
may end at any step (an application withdrawn, a service no longer needed).

How long an extension may be, seed 002 does not say: it says only "延長可". Kizuna holds
each extension to at most 6 months past the current last day, the length of the period
itself, so that the need is decided again at least every 6 months; this is Kizuna's rule,
not the seed's.

Pure domain, like `workflow`: the mutations (schema/dispatches/) and the demo seeder share it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from kizuna.platform.i18n import Message
from kizuna.platform.vocabulary import CareTask, DispatchStatus
from kizuna.schema.cases.workflow import Refusal, Rule

D = DispatchStatus
DISPATCH_STEPS: Final = MappingProxyType(
    {
        # Before the service, a dispatch ends when the application is withdrawn or refused.
        D.APPLIED: (D.SURVEYED, D.ENDED),
        D.SURVEYED: (D.PLANNED, D.ENDED),
        D.PLANNED: (D.DECIDED, D.ENDED),
        D.DECIDED: (D.IN_SERVICE, D.ENDED),
        # monitoring (with the coordinator) happens while the service runs
        D.IN_SERVICE: (D.MONITORING, D.ENDED),
        D.MONITORING: (D.IN_SERVICE, D.ENDED),
        D.ENDED: (),
    }
)
"""Each status and the statuses a dispatch may move to from it."""

MAX_VISIT_MINUTES: Final = 120
PERIOD_MONTHS: Final = 6
"""A decided period lasts at most 6 months; so does each extension of it (Kizuna's bound)."""
SERVICE_TASKS: Final = frozenset({CareTask.HOUSEWORK, CareTask.SIBLING_CARE, CareTask.WATCHING_OVER})
"""What the service provides (家事・育児支援), in the care-task vocabulary."""
VISITABLE: Final = frozenset({D.DECIDED, D.IN_SERVICE, D.MONITORING})
"""The statuses in which a visit may be recorded (the first one starts the service)."""


def add_months(day: dt.date, months: int) -> dt.date:
    """Month arithmetic as PostgreSQL's `date + interval 'n months'` does it (clamped to
    the month's last day), so these checks agree with the database's CHECK constraints."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class ServicePeriod:
    """The decided period of a dispatch, both ends included."""

    start: dt.date
    end: dt.date
    extended_until: dt.date | None = None

    @property
    def last_day(self) -> dt.date:
        return self.extended_until or self.end


def check_dispatch_step(source: DispatchStatus, target: DispatchStatus) -> Refusal | None:
    if target not in DISPATCH_STEPS[source]:
        return Refusal(Rule.DISPATCH_STEP_NOT_ALLOWED, "status", Message.DISPATCH_STEP_NOT_ALLOWED)
    return None


def check_step_date(previous: dt.date, day: dt.date, field: str) -> Refusal | None:
    """A step dated `day` after the step before it, dated `previous` (the same day is fine)."""
    if day < previous:
        params = {"previous": previous.isoformat()}
        return Refusal(Rule.DATE_BEFORE_PREVIOUS_STEP, field, Message.DATE_BEFORE_PREVIOUS_STEP, params)
    return None


def check_period(start: dt.date, end: dt.date) -> Refusal | None:
    """The period a decision notice grants."""
    if end <= start:
        return Refusal(Rule.PERIOD_NOT_AFTER_START, "periodEnd", Message.PERIOD_NOT_AFTER_START)
    if end > add_months(start, PERIOD_MONTHS):
        return Refusal(Rule.PERIOD_TOO_LONG, "periodEnd", Message.PERIOD_TOO_LONG, {"months": PERIOD_MONTHS})
    return None


def check_extension(period: ServicePeriod, until: dt.date) -> Refusal | None:
    """Extending the period (again) to `until`."""
    if until <= period.last_day:
        return Refusal(Rule.EXTENSION_NOT_AFTER_END, "extendedUntil", Message.EXTENSION_NOT_AFTER_END)
    if until > add_months(period.last_day, PERIOD_MONTHS):
        params = {"months": PERIOD_MONTHS}
        return Refusal(Rule.EXTENSION_TOO_LONG, "extendedUntil", Message.EXTENSION_TOO_LONG, params)
    return None


def check_visit(
    period: ServicePeriod | None, visited_on: dt.date, minutes: int, other_visits: Collection[dt.date]
) -> Refusal | None:
    """A visit to record: `period` is None until the dispatch is decided, `other_visits`
    the days of the dispatch's visits already recorded."""
    if not 1 <= minutes <= MAX_VISIT_MINUTES:
        return Refusal(Rule.VISIT_MINUTES, "minutes", Message.VISIT_MINUTES, {"max": MAX_VISIT_MINUTES})
    if period is None:
        return Refusal(Rule.VISIT_OUTSIDE_PERIOD, "visitedOn", Message.DISPATCH_NOT_DECIDED)
    if not period.start <= visited_on <= period.last_day:
        params = {"start": period.start.isoformat(), "end": period.last_day.isoformat()}
        return Refusal(Rule.VISIT_OUTSIDE_PERIOD, "visitedOn", Message.VISIT_OUTSIDE_PERIOD, params)
    week = visited_on.isocalendar()[:2]
    if any(day.isocalendar()[:2] == week for day in other_visits):
        return Refusal(Rule.SECOND_VISIT_IN_WEEK, "visitedOn", Message.SECOND_VISIT_IN_WEEK)
    return None


def check_visit_tasks(tasks: Collection[CareTask]) -> Refusal | None:
    """A visit names at least one task, each one the service provides."""
    if not tasks:
        return Refusal(Rule.VISIT_TASKS, "tasks", Message.VISIT_TASKS_REQUIRED)
    if not set(tasks) <= SERVICE_TASKS:
        return Refusal(Rule.VISIT_TASKS, "tasks", Message.VISIT_TASK_OUTSIDE_SERVICE)
    return None
