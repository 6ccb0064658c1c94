"""The members who move into a federation (domain/federation.py): each founder's members on the
federation date join it in their founder's college, under their own ids or renamed under
"prefix"; a clash of ids is refused before any entry is built."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from domain.errors import Conflict
from domain.events import Meta
from domain.membership import AdmitMember, admit_member
from domain.rules import identifier

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.membership import Member


def moving_members(founder: Cooperative, day: date) -> list[Member]:
    """The founder's members on the federation date, in admission order (those who left stay behind)."""
    return [m for m in founder.members.values() if m.is_member_on(day)]


def move_members(
    new: Cooperative, coop: str, prefix: bool, founders: dict[str, Cooperative], college_of: dict[str, str], day: date, meta: Meta
) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, str]]]]:
    """Admits every founder's moving member into the federation `coop`, renamed when `prefix`
    (the command's member_ids "prefix"). Returns each founder's renaming (founder member id ->
    federation member id) and who moved."""
    party_maps: dict[str, dict[str, str]] = {}
    moved: dict[str, list[dict[str, str]]] = {}
    origin: dict[str, str] = {}
    for slug, founder in founders.items():
        party_maps[slug] = {m: identifier(f"{slug}.{m}", "member_ids") for m in founder.members} if prefix else {}
        moved[slug] = []
        for m in moving_members(founder, day):
            new_id = party_maps[slug].get(m.member_id, m.member_id)
            if new_id in origin:
                raise Conflict(
                    "member_ids",
                    "unique_member",
                    f'member id {new_id!r} is in {origin[new_id]} and {slug}: send member_ids "prefix"',
                )
            origin[new_id] = slug
            admit_member(new, AdmitMember(coop, new_id, m.name, m.kind.value, college_of[slug], day, m.headcount), meta)
            moved[slug].append({"member_id": new_id, "founder_member_id": m.member_id})
    return party_maps, moved
