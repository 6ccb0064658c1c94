"""The rule catalogue (domain/rule_catalogue.py) is complete, and holds nothing unused.

Read from the source with ast (nothing is imported to find them): every rule the product code
makes, that is every value given as a rule

- to a callable taking a `rule` (DomainError and its subclasses, ApiError, problem(), the API's
  own validators' PydanticCustomError, a helper passing a rule on), positionally or by keyword,
- as `rule=` to any call,
- as the "rule" of a dict (a refusal in a batch's answer, a warning of a tally, the end of a
  stream), except an eligibility reason's, which has an "ok" (whether the member meets it: the
  voting explanation's own vocabulary, api/explain_text.py),

is a literal string (or a choice between literal strings), a parameter of a helper whose callers
are read in turn, a rule carried from a refusal already made (`error.rule`, `item["rule"]`), or
`validation_rule(...)`, whose values are the catalogue's VALIDATION_TYPES and FALLBACK_RULE. Any
other expression is a rule built where no one can read it, and fails here.
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_core import core_schema

from domain.rule_catalogue import FALLBACK_RULE, RULES, VALIDATION_TYPES, is_rule_name, validation_rule
from domain.rule_catalogue_a_k import RULES_A_K
from domain.rule_catalogue_l_z import RULES_L_Z

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("domain", "ledger", "projections", "api", "cli")
# Callables outside the product that take a rule: pydantic's custom error, whose type the API
# answers as the rule (domain/rule_catalogue.py validation_rule).
THIRD_PARTY_RULE_TAKERS = {"PydanticCustomError": 0}
DOMAIN_ERRORS = ("DomainError", "InvalidCommand", "NotFound", "Conflict")

Site = tuple[str, int]  # path, line


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for folder in PRODUCT:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _rule_position(args: ast.arguments, *, method: bool) -> int | None | bool:
    """The position of the `rule` parameter (None: keyword only), or False when there is none."""
    positional = [a.arg for a in [*args.posonlyargs, *args.args]][1 if method else 0 :]
    if "rule" in positional:
        return positional.index("rule")
    return None if "rule" in [a.arg for a in args.kwonlyargs] else False


def _rule_takers(modules: list[tuple[str, ast.Module]]) -> dict[str, set[int | None]]:
    """Every callable of the product with a `rule` parameter, by name: functions, classes by their
    __init__ or their fields (a NamedTuple, a dataclass), and the DomainError subclasses."""
    takers: dict[str, set[int | None]] = {name: {1} for name in DOMAIN_ERRORS}
    takers.update({name: {position} for name, position in THIRD_PARTY_RULE_TAKERS.items()})
    for _path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                position = _rule_position(node.args, method=False)
                if position is not False and node.name != "__init__":
                    takers.setdefault(node.name, set()).add(position)  # type: ignore[arg-type]
            elif isinstance(node, ast.ClassDef):
                if any(isinstance(b, ast.Name) and b.id in DOMAIN_ERRORS for b in node.bases):
                    takers.setdefault(node.name, set()).add(1)
                init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
                fields = [n.target.id for n in node.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
                if init is not None and (position := _rule_position(init.args, method=True)) is not False:
                    takers.setdefault(node.name, set()).add(position)  # type: ignore[arg-type]
                elif init is None and "rule" in fields:
                    takers.setdefault(node.name, set()).add(fields.index("rule"))
    return takers


def _callee(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else call.func.attr if isinstance(call.func, ast.Attribute) else None


def _given_rules(node: ast.AST, takers: dict[str, set[int | None]]) -> Iterator[ast.expr]:
    """The expressions this node gives as a rule."""
    if isinstance(node, ast.Call):
        keyword = next((k.value for k in node.keywords if k.arg == "rule"), None)
        if keyword is not None:
            yield keyword
        else:
            for position in takers.get(_callee(node) or "", ()):
                if position is not None and position < len(node.args):
                    yield node.args[position]
    elif isinstance(node, ast.Dict):
        keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)}
        if "rule" in keys and "ok" not in keys:
            yield keys["rule"]


class Scan:
    """The rules the source makes (rule -> sites) and the expressions no one can read."""

    def __init__(self) -> None:
        self.modules = list(_sources())
        self.takers = _rule_takers(self.modules)
        self.made: dict[str, list[Site]] = {}
        self.unreadable: list[str] = []
        for path, tree in self.modules:
            self._scan(path, [tree])

    def _scan(self, path: str, scopes: list[ast.AST]) -> None:
        """Reads a function (scopes[-1]) and those inside it, knowing the functions around it."""
        for node in _own_nodes(scopes[-1]):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._scan(path, [*scopes, node])
            for expr in _given_rules(node, self.takers):
                self._resolve(path, scopes, expr)

    def _resolve(self, path: str, scopes: list[ast.AST], expr: ast.expr) -> None:
        site = (path, expr.lineno)
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            self.made.setdefault(expr.value, []).append(site)
        elif isinstance(expr, ast.IfExp):
            self._resolve(path, scopes, expr.body)
            self._resolve(path, scopes, expr.orelse)
        elif (isinstance(expr, ast.Attribute) and expr.attr == "rule") or (
            isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and expr.slice.value == "rule"
        ):
            pass  # carried from a refusal made elsewhere, and read there
        elif isinstance(expr, ast.Call) and _callee(expr) == "validation_rule":
            pass  # its values are checked below, in the catalogue
        elif isinstance(expr, ast.Name) and any(_is_rule_parameter(s, expr.id, self.takers) for s in scopes):
            pass  # a helper passing a rule on (to a function inside it, too): its callers are read
        elif isinstance(expr, ast.Name) and (values := list(_assigned(scopes[-1], expr.id))):
            for value in values:
                self._resolve(path, scopes, value)
        else:
            self.unreadable.append(f"{path}:{expr.lineno}: {ast.unparse(expr)}")


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function (or a module's top level), down to the functions inside it (each
    yielded, not entered)."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _is_rule_parameter(scope: ast.AST, name: str, takers: dict[str, set[int | None]]) -> bool:
    if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    return name == "rule" and _rule_position(scope.args, method=False) is not False and scope.name in takers


def _assigned(scope: ast.AST, name: str) -> Iterator[ast.expr]:
    """The values assigned to `name` in this scope, a tuple's item for `a, name = x, y`."""
    for node in _own_nodes(scope):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                yield node.value
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for item, value in zip(target.elts, node.value.elts, strict=False):
                    if isinstance(item, ast.Name) and item.id == name:
                        yield value


@pytest.fixture(scope="module")
def scan() -> Scan:
    return Scan()


def test_every_rule_is_made_readably(scan: Scan) -> None:
    assert scan.unreadable == [], "write these rules as literal strings (or list their values in the catalogue):\n" + "\n".join(
        scan.unreadable
    )


def test_every_rule_made_is_in_the_catalogue(scan: Scan) -> None:
    missing = {rule: sites[0] for rule, sites in sorted(scan.made.items()) if rule not in RULES}
    assert missing == {}, "add these rules to domain/rule_catalogue_*.py, with their meaning: " + repr(missing)


def test_every_rule_in_the_catalogue_is_made_somewhere(scan: Scan) -> None:
    unused = sorted(set(RULES) - set(scan.made) - VALIDATION_TYPES - {FALLBACK_RULE})
    assert unused == [], f"no code refuses with these rules any more: remove them from the catalogue: {unused}"


def test_the_scan_finds_rules_of_every_kind_of_site(scan: Scan) -> None:
    """A scan that found nothing would pass the two tests above: each kind of site is seen."""
    expected = {
        "no_overpayment": "domain/",  # InvalidCommand(field, rule, message)
        "known_cooperative": "domain/",  # NotFound
        "unique_subsidy": "domain/funds_carry.py",  # a helper's rule parameter, positional
        "gift_receipt_retention": "domain/identities.py",
        "non_negative": "domain/money.py",  # a variable assigned a choice of literals
        "positive": "domain/money.py",
        "known_separator": "domain/bank_csv.py",
        "rate_limited": "api/",  # ApiError(..., rule=...)
        "write_contention": "api/errors.py",  # _retry_later(rule, detail)
        "utf8": "api/body_guard.py",  # Refusal, a NamedTuple with a rule field
        "percent": "api/schemas.py",  # _number(pattern, rule, ...): PydanticCustomError(rule, ...)
        "role_command": "api/routes_commands.py",  # a batch's refusal, as a dict
        "api_key_valid": "api/routes_feed.py",  # the end of a stream
        "same_key_same_content": "ledger/",
        "pg_tool_succeeds": "ledger/backup.py",
        "decimal": "api/errors.py",  # validation_errors: rule, message = "decimal", ...
    }
    found = {rule: next((p for p, _ in scan.made.get(rule, []) if p.startswith(where)), None) for rule, where in expected.items()}
    assert all(found.values()), {rule: where for rule, where in found.items() if where is None}


def test_the_catalogue_is_sorted_snake_case_and_says_what_each_rule_asks() -> None:
    for part in (RULES_A_K, RULES_L_Z):
        assert list(part) == sorted(part), "keep each part in alphabetical order"
    assert set(RULES_A_K).isdisjoint(RULES_L_Z)
    assert all(rule < "l" for rule in RULES_A_K) and all(rule >= "l" for rule in RULES_L_Z)
    assert list(RULES) == sorted(RULES)
    bad = [rule for rule in RULES if not is_rule_name(rule)]
    assert bad == [], f"rules are snake_case codes: {bad}"
    vague = {rule: meaning for rule, meaning in RULES.items() if len(meaning.split()) < 3 or meaning.endswith(".")}
    assert vague == {}, "a meaning is a few words, without a final stop"


def test_validation_types_are_pydantic_error_types_and_catalogued() -> None:
    pydantic_types = set(typing.get_args(core_schema.ErrorType))
    assert VALIDATION_TYPES <= pydantic_types, VALIDATION_TYPES - pydantic_types
    assert VALIDATION_TYPES <= set(RULES) and FALLBACK_RULE in RULES
    assert validation_rule("string_too_long") == "string_too_long"
    assert validation_rule("decimal") == "decimal"  # a rule the API's own validators raise
    assert validation_rule("uuid_parsing") == FALLBACK_RULE  # pydantic's, but not published
