"""Compile a contract suite (data_contracts/<extract>.json) into DuckDB SQL.

Each expectation becomes a boolean "this row breaks it" expression over the extract's text
(`t_<column>`, trimmed, empty = null) and typed (`v_<column>`) values. The first broken
expectation in suite order names the row's quarantine rule; the detail lists every broken one.
Only the expectation types the suites use are supported: an unknown type is an error, so a
suite cannot hold a rule the quarantine silently skips.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipelines.contracts.schema import EXTRACTS
from pipelines.contracts.suites import GRANTED_DATE_COLUMN, OUTSIDE_AREA_COLUMN

BOOL_TRUE = ("true", "y", "1")
BOOL_FALSE = ("false", "n", "0")
WHITESPACE = " \t\r\n"


def q(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def included_codes_regex(codes: list[str]) -> str:
    """`|`-separated known codes (spaces around the bars allowed), anchored for GX and SQL.
    An empty element (a trailing or doubled bar, as an export that joins codes writes) names
    no code and is allowed: the classification skips it, so it is no reason to lose a crime."""
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=lambda c: (-len(c), c)))
    one = rf"\s*(?:{alternatives})?\s*"
    return rf"^{one}(?:\|{one})*$"


def text_expr(column: str, present: set[str]) -> str:
    if column not in present:
        return "cast(null as varchar)"
    x = f"cast({ident(column)} as varchar)"
    # trim() with a character list is ~2x slower than plain trim(): use it only when a tab or
    # line break is present at all.
    odd = " or ".join(f"contains({x}, chr({code}))" for code in (9, 10, 13))
    return f"nullif(case when {odd} then trim({x}, {q(WHITESPACE)}) else trim({x}) end, '')"


def typed_expr(
    t: str, spec_type: str, canonical: list[str] | None = None, zero_padded: bool = False
) -> str:
    """The typed value of text `t`; null when empty or unparseable. `zero_padded`: a number
    written with leading zeros (`016`) loads as the number's text (`16`)."""
    if zero_padded:
        padded = f"regexp_full_match({t}, '0+[1-9][0-9]*')"
        return f"case when {padded} then ltrim({t}, '0') else {t} end"
    # ISO shape first (cheap string tests, not a regex: this runs on every date of every row),
    # so DuckDB's lenient casts cannot accept other layouts.
    iso = (
        f"substr({t}, 5, 1) = '-' and substr({t}, 8, 1) = '-' "
        f"and substr({t}, 1, 4) between '0000' and '9999'"
    )
    if spec_type == "date":
        return f"case when length({t}) = 10 and {iso} then try_cast({t} as date) end"
    if spec_type == "timestamp":
        return (
            f"case when length({t}) between 10 and 26 and {iso} "
            f"and (length({t}) = 10 or substr({t}, 11, 1) in ('T', ' ')) "
            # local UK time: a UTC offset or zone would be silently dropped by the cast
            f"and strpos(substr({t}, 11), '+') = 0 and strpos(upper({t}), 'Z') = 0 "
            f"then try_cast({t} as timestamp) end"
        )
    if spec_type == "float":
        return f"case when isfinite(try_cast({t} as double)) then try_cast({t} as double) end"
    if spec_type == "bool":
        trues = ", ".join(q(v) for v in BOOL_TRUE)
        falses = ", ".join(q(v) for v in BOOL_FALSE)
        return (
            f"case when lower({t}) in ({trues}) then true "
            f"when lower({t}) in ({falses}) then false end"
        )
    if canonical:
        # Allowed values load in the contract's spelling, whatever case was delivered.
        whens = " ".join(f"when {q(v.lower())} then {q(v)}" for v in canonical)
        return f"case lower({t}) {whens} else {t} end"
    return t


@dataclass
class Check:
    rule_sql: str  # SQL expression giving the rule name
    broken: str  # SQL boolean: the row breaks this expectation
    detail: str  # SQL text expression describing the break
    severity: str = "critical"
    rule: str = ""


@dataclass
class Compiled:
    extract: str
    text_columns: dict[str, str]  # column -> text expression over the landing table
    typed_columns: dict[str, str]  # column -> typed expression over t_ columns
    checks: list[Check] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # extra FROM clauses (lookups)
    references: list[dict[str, Any]] = field(default_factory=list)
    soft_references: list[dict[str, Any]] = field(default_factory=list)
    needs_area: tuple[str, str] | None = None


def _value(column: str) -> str:
    if column == GRANTED_DATE_COLUMN:
        return "lk_orders.granted_date"
    return f"c.v_{column}"


def _show(column: str) -> str:
    """The delivered text of a column for the detail message (truncated)."""
    if column == GRANTED_DATE_COLUMN:
        return "coalesce(cast(lk_orders.granted_date as varchar), 'empty')"
    return f"coalesce(left(c.t_{column}, 80), 'empty')"


def _detail(column: str, description: str) -> str:
    return f"{q(column + ' = ')} || {_show(column)} || {q(' (expected: ' + description + ')')}"


def compile_suite(suite: dict[str, Any], present: set[str], parameters: dict[str, Any]) -> Compiled:
    """SQL for one extract. `present`: the columns the delivered file has; `parameters`: the
    run-time `$PARAMETER` values (offence_codes, included_offence_codes_regex, today)."""
    extract = suite["meta"]["extract"]
    spec = EXTRACTS[extract]
    allowed: dict[str, list[str]] = {}
    padded: set[str] = set()
    for exp in suite["expectations"]:
        if exp["type"] != "expect_column_values_to_be_in_set":
            continue
        if exp["meta"].get("case_insensitive"):
            allowed[exp["kwargs"]["column"]] = list(exp["kwargs"]["value_set"])
        if exp["meta"].get("zero_padded"):
            padded.add(exp["kwargs"]["column"])
    compiled = Compiled(
        extract=extract,
        text_columns={c.name: text_expr(c.name, present) for c in spec.columns},
        typed_columns={
            c.name: typed_expr(f"t_{c.name}", c.type, allowed.get(c.name), c.name in padded)
            for c in spec.columns
        },
    )

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "$PARAMETER" in value:
            return parameters[value["$PARAMETER"]]
        return value

    for exp in suite["expectations"]:
        kind, kw, meta = exp["type"], exp["kwargs"], exp["meta"]
        rule, desc = meta["rule"], meta["description"]
        col = kw.get("column")
        rule_sql = q(rule)
        if kind == "expect_column_values_to_be_in_type_list":
            broken = f"c.t_{col} is not null and c.v_{col} is null"
        elif kind == "expect_column_values_to_not_be_null":
            if "when_present" in meta:
                broken = f"{_value(meta['when_present'])} is not null and {_value(col)} is null"
            elif "lookup" in meta:
                broken = "lk_orders.k is not null and lk_orders.granted_date is null"
            else:
                # Delivered empty; an unparseable value is reported by its type rule.
                broken = f"c.t_{col} is null"
        elif kind == "expect_column_values_to_be_in_set" and "references" in meta:
            ref = meta["references"]
            alias = f"ref_{ref['extract']}"
            record = {
                "child_column": col,
                "extract": ref["extract"],
                "parent_column": ref["column"],
                "rule": rule,
            }
            if exp.get("severity", "critical") != "critical":
                compiled.soft_references.append(record)
                continue
            compiled.references.append(record)
            compiled.joins.append(
                f"left join (select distinct {ident(ref['column'])} as k "
                f"from raw.{ident(ref['extract'])}) {alias} on {alias}.k = c.v_{col}"
            )
            compiled.joins.append(
                f"left join (select distinct record_key as k from raw.quarantine "
                f"where extract = {q(ref['extract'])}) q_{alias} on q_{alias}.k = c.v_{col}"
            )
            broken = f"c.v_{col} is not null and {alias}.k is null"
            if "rule_if_parent_quarantined" in meta:
                rule_sql = (
                    f"case when q_{alias}.k is not null "
                    f"then {q(meta['rule_if_parent_quarantined'])} else {q(rule)} end"
                )
        elif kind == "expect_column_values_to_be_in_set":
            values = resolve(kw["value_set"])
            if meta.get("case_insensitive"):
                listed = ", ".join(q(v.lower()) for v in values)
                broken = f"c.t_{col} is not null and lower(c.t_{col}) not in ({listed})"
            else:
                listed = ", ".join(q(v) for v in values)
                # checked as it loads (a zero-padded number as the number, `typed_expr`)
                checked = f"c.v_{col}" if meta.get("zero_padded") else f"c.t_{col}"
                broken = f"c.t_{col} is not null and {checked} not in ({listed})"
        elif kind == "expect_column_values_to_match_regex":
            regex = resolve(kw["regex"])
            broken = f"c.t_{col} is not null and not regexp_matches(c.t_{col}, {q(regex)})"
        elif kind == "expect_column_values_to_not_be_in_set" and col == OUTSIDE_AREA_COLUMN:
            derived = meta["derived"]
            compiled.needs_area = (derived["latitude"], derived["longitude"])
            broken = "area.outside_row is not null"
            desc_col = f"{derived['latitude']}/{derived['longitude']}"
            compiled.checks.append(
                Check(rule_sql, broken, q(f"{desc_col}: {desc}"), exp["severity"], rule)
            )
            continue
        elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = _value(kw["column_A"]), _value(kw["column_B"])
            op = "<" if kw.get("or_equal") else "<="
            broken = f"{a} is not null and {b} is not null and {a} {op} {b}"
            col = kw["column_A"]
        elif kind == "expect_column_values_to_be_between":
            parts = []
            if kw.get("max_value") is not None:
                above = ">=" if kw.get("strict_max") else ">"
                parts.append(f"c.v_{col} {above} {q(str(resolve(kw['max_value'])))}")
            if kw.get("min_value") is not None:
                below = "<=" if kw.get("strict_min") else "<"
                parts.append(f"c.v_{col} {below} {q(str(resolve(kw['min_value'])))}")
            broken = f"c.v_{col} is not null and ({' or '.join(parts)})"
        elif kind == "expect_column_values_to_be_unique":
            broken = "c._repeats_key"
        else:
            raise ValueError(f"{extract}: expectation type {kind!r} has no SQL compilation")
        if "lookup" in meta and not any("lk_orders" in j for j in compiled.joins):
            lookup = meta["lookup"]
            compiled.joins.append(
                f"left join (select {ident(lookup['key'])} as k, "
                f"{ident(lookup['column'])} as granted_date from raw.{ident(lookup['extract'])})"
                f" lk_orders on lk_orders.k = c.v_{lookup['on']}"
            )
        compiled.checks.append(
            Check(rule_sql, f"coalesce({broken}, false)", _detail(col, desc), exp["severity"], rule)
        )
    return compiled
