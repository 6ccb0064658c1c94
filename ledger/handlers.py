"""The handler map: which domain decider handles which command.

Each family module exports `HANDLERS = {Command: decider}`; this module merges them. A new
family adds its module to FAMILIES. FoundCooperative and ReverseEntry need more than the
aggregate (there is no aggregate yet; the original event) and are handled by the service.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from domain import (
    advertising,
    advertising_carry,
    certifications,
    closing,
    contributions,
    cooperative,
    corrections,
    donations,
    donations_carry,
    entries,
    federation,
    fees,
    funds_carry,
    governance,
    grants,
    levy,
    membership,
    observatory,
    receivables_carry,
    sensors,
    sensors_carry,
    shared_hours,
    shared_hours_carry,
    shares_carry,
    subscriptions,
    subsidies,
)
from domain.cooperative import Cooperative
from domain.events import Meta

Decider = Callable[[Cooperative, Any, Meta], None]

FAMILIES: tuple[ModuleType, ...] = (
    cooperative, membership, fees, entries, corrections, governance,
    subscriptions, certifications, levy,  # issue 3, income side
    contributions, grants, subsidies,  # issue 3, cooperation fund and funding
    sensors, shared_hours,  # issue 3, CREDIT and HOUR units
    closing,  # issue 6, fiscal-year closing
    observatory,  # issue 7, the observatory's public setting
    donations, advertising,  # issue 11, donations, crowdfunding and advertising
    federation,  # issue 11, federating cooperatives (several aggregates: ledger/federation.py)
)
# Open items a federation carries (domain/federation_carry.py): events, no command. Listed so that
# every process that decodes a federation's history knows their classes, whatever it imported.
CARRIED_FAMILIES: tuple[ModuleType, ...] = (
    advertising_carry, donations_carry, funds_carry, receivables_carry, sensors_carry, shared_hours_carry, shares_carry,
)

HANDLERS: dict[type, Decider] = {}
for _family in FAMILIES:
    for _command, _decider in getattr(_family, "HANDLERS", {}).items():
        assert _command not in HANDLERS, f"{_command.__name__} is handled twice"
        HANDLERS[_command] = _decider

SPECIAL_COMMANDS: tuple[type, ...] = (cooperative.FoundCooperative, corrections.ReverseEntry, federation.FederateCooperatives)

COMMANDS: dict[str, type] = {cls.__name__: cls for cls in (*SPECIAL_COMMANDS, *HANDLERS)}
