"""A person's data, for their right of access (GDPR article 15): everything the ledger holds on them.
Admins only. Forgetting a person is the command ForgetPerson (POST .../commands/ForgetPerson);
docs/decisions/0013-forgetting-a-person.md says what it does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from api.answers import audit as answers
from api.deps import Services, document_access, fresh, reader, services
from api.errors import PROBLEM_RESPONSES
from api.examples import ok
from api.keys import Principal
from projections.person_export import person_export

EXAMPLE = {
    "coop": "mednum-scic",
    "person_id": "M-014",
    "exported_at": "2026-12-07T09:00:00+00:00",
    "has_key": True,
    "forgotten": None,
    "identity": [{"field": "name", "value": "Camille Martin", "event": "MemberAdmitted", "version": 12}],
    "linked_ids": [],
    "balances": [{"account": "411", "unit": "EUR", "balance": "300.00"}],
    "events": [
        {
            "version": 12,
            "event": "MemberAdmitted",
            "fields": [
                {"name": "effective_date", "value": "2025-01-20"},
                {"name": "member_id", "value": "M-014"},
                {"name": "name", "value": "Camille Martin"},
            ],
        }
    ],
}


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["persons"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)

    @r.get(
        "/persons/{person_id}",
        summary="Everything held on one person (right of access): the events naming them, their identity, balances",
        responses=ok(EXAMPLE),
        response_model=answers.PersonExport,
    )
    def get_person(
        coop: str,
        person_id: str = Path(max_length=100, description="The person's id in this cooperative (a member, donor... id)"),
        _who: Principal = Depends(reader("persons")),
        svc: Services = Depends(services),
    ) -> dict[str, Any]:
        """Read from the events on the primary, identity opened; after an erasure, the pseudonym."""
        return answers.person_export(person_export(svc.ledger, coop, person_id))

    document_access(r.routes)
    return r
