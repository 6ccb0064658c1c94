"""The layout of a bank's CSV statements (SetCsvMapping): checked here, read by ledger/bank_files.py.

Banks write CSV their own way: `;` or `,`, Latin-1 or UTF-8, `31/01/2026` or `2026-01-31`,
`1 234,56` or `1,234.56`, one signed amount column or a debit and a credit column, a few lines
of header. A mapping says which, once per bank account; every key is checked and an unknown key
is refused (a misspelt key would otherwise be silently ignored and the file read wrong).

Columns are numbered from 0 in the file's order.
"""

from __future__ import annotations

import codecs
from typing import Any

from domain.errors import InvalidCommand

SEPARATORS = (";", ",", "\t", "|")
DECIMAL_MARKS = (",", ".")
# "" (none), a space, a no-break or narrow no-break space (French `1 234,56`), a dot, a comma, an apostrophe
THOUSANDS_SEPARATORS = ("", " ", "\u00a0", "\u202f", ".", ",", "'")
DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%m/%d/%Y", "%Y%m%d")
MAX_SKIP_LINES = 50
MAX_COLUMN = 99
# Columns a mapping may name: those required, and those that are optional.
REQUIRED_COLUMNS = ("date", "label")
OPTIONAL_COLUMNS = ("value_date", "counterparty", "counterparty_iban", "reference", "bank_ref")
AMOUNT_COLUMNS = ("amount", "debit", "credit")
KEYS = ("separator", "encoding", "date_format", "decimal", "thousands", "skip_lines", "columns")
DEFAULTS: dict[str, Any] = {"separator": ";", "encoding": "utf-8", "date_format": "%d/%m/%Y", "decimal": ",", "thousands": ""}


def check_mapping(mapping: Any) -> dict[str, Any]:
    """The mapping, complete and checked, or InvalidCommand naming the key and the rule."""
    if not isinstance(mapping, dict):
        raise InvalidCommand("mapping", "object", "must be an object of the keys " + ", ".join(KEYS))
    unknown = sorted(set(mapping) - set(KEYS))
    if unknown:
        raise InvalidCommand(f"mapping.{unknown[0]}", "known_mapping_key", f"unknown key; the keys are {', '.join(KEYS)}")
    found = {**DEFAULTS, "skip_lines": 1, **mapping}
    _one_of(found, "separator", SEPARATORS, "known_separator")
    _one_of(found, "date_format", DATE_FORMATS, "known_date_format")
    _one_of(found, "decimal", DECIMAL_MARKS, "known_decimal")
    _one_of(found, "thousands", THOUSANDS_SEPARATORS, "known_thousands")
    if found["thousands"] == found["decimal"]:
        raise InvalidCommand("mapping.thousands", "distinct_marks", "the thousands separator must differ from the decimal mark")
    if found["thousands"] == found["separator"] or found["decimal"] == found["separator"]:
        raise InvalidCommand("mapping.separator", "distinct_marks", "the column separator must differ from the number marks")
    encoding = found["encoding"]
    try:
        if not isinstance(encoding, str):
            raise LookupError
        found["encoding"] = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidCommand("mapping.encoding", "known_encoding", f"{encoding!r} is not a known text encoding") from None
    skip = found["skip_lines"]
    if not isinstance(skip, int) or isinstance(skip, bool) or not 0 <= skip <= MAX_SKIP_LINES:
        raise InvalidCommand("mapping.skip_lines", "range", f"must be a whole number from 0 to {MAX_SKIP_LINES}")
    found["columns"] = _columns(found.get("columns"))
    return {key: found[key] for key in KEYS}


def _one_of(found: dict[str, Any], key: str, allowed: tuple[str, ...], rule: str) -> None:
    if found[key] not in allowed:
        raise InvalidCommand(f"mapping.{key}", rule, f"{found[key]!r} is not one of {', '.join(map(repr, allowed))}")


def _columns(columns: Any) -> dict[str, int]:
    every = (*REQUIRED_COLUMNS, *AMOUNT_COLUMNS, *OPTIONAL_COLUMNS)
    if not isinstance(columns, dict):
        raise InvalidCommand("mapping.columns", "required", "name the columns: {" + ", ".join(f'"{c}": N' for c in every) + "}")
    unknown = sorted(set(columns) - set(every))
    if unknown:
        raise InvalidCommand(
            f"mapping.columns.{unknown[0]}", "known_column", f"unknown column; the columns are {', '.join(every)}"
        )
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            raise InvalidCommand(f"mapping.columns.{name}", "required", f"say which column holds the {name}")
    has_amount, has_sides = "amount" in columns, "debit" in columns or "credit" in columns
    if has_amount == has_sides or (has_sides and not ("debit" in columns and "credit" in columns)):
        raise InvalidCommand(
            "mapping.columns.amount", "one_amount_layout", "give either one signed `amount` column or both `debit` and `credit`"
        )
    for name, index in columns.items():
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAX_COLUMN:
            raise InvalidCommand(f"mapping.columns.{name}", "column_number", f"must be a column number from 0 to {MAX_COLUMN}")
    if len(set(columns.values())) != len(columns):
        raise InvalidCommand("mapping.columns", "distinct_columns", "two names point at the same column")
    return {name: columns[name] for name in every if name in columns}
