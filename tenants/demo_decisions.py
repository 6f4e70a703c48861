"""The prefecture's decisions on its municipalities' demo submissions, made as its analyst
through the request path (row security lets the analyst decide its own prefecture's
municipalities only, and nothing else of theirs). Dated as the demo's calendar has them,
where `acceptSubmission` would say now."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from kizuna.platform.database import TenantTransaction
from kizuna.platform.vocabulary import SubmittedFigures
from kizuna.tenants.demo_programmes import submission_plan
from kizuna.tenants.registry import LocalGovernment

DECIDE: Final = {
    SubmittedFigures.MUNICIPALITY_STATUS: """
UPDATE kizuna.municipality_status
SET submission = $4::kizuna.submission_status, decided_at = $5, decided_by = $6, return_comment = $7
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3
  AND submission = 'submitted'
""",
    SubmittedFigures.PROGRAMMES: """
UPDATE kizuna.programme_submission
SET submission = $4::kizuna.submission_status, decided_at = $5, decided_by = $6, return_comment = $7
WHERE left(municipality_code, 2) = left($1, 2) AND municipality_code = $2 AND fiscal_year = $3
  AND submission = 'submitted'
""",
}


async def decide(
    tx: TenantTransaction, municipalities: Sequence[LocalGovernment], analyst: uuid.UUID, seed: int
) -> int:
    """Accept or return what the demo plan decides (still submitted ones only); returns how many."""
    decided = 0
    for government in municipalities:
        for (figures, year), plan in submission_plan(government, seed).items():
            if plan.decided is None:
                continue
            status = await tx.execute(
                DECIDE[figures], government.code, year, plan.decided.value, plan.decided_at, analyst, plan.comment
            )
            decided += status == "UPDATE 1"
    return decided
