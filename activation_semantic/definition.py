"""The definition format (SPEC §2) as frozen Pydantic models; cross-field rules live in checks.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

SET_NAME = r"^[a-z][a-z0-9_]*$"
MEMBER_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
CUBE_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"
COLUMN = r"^[A-Za-z_][A-Za-z0-9_]*$"
TABLE = r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$"

Ident = Annotated[str, StringConstraints(strict=True, pattern=SET_NAME, max_length=64)]
MemberName = Annotated[str, StringConstraints(strict=True, pattern=MEMBER_NAME, max_length=64)]
CubeName = Annotated[str, StringConstraints(strict=True, pattern=CUBE_NAME, max_length=64)]
Column = Annotated[str, StringConstraints(strict=True, pattern=COLUMN, max_length=128)]
Table = Annotated[str, StringConstraints(strict=True, pattern=TABLE, max_length=256)]
Text = Annotated[str, StringConstraints(strict=True, max_length=4096)]


def _require(value: Any) -> Any:
    if isinstance(value, bool) or not (value in ("all", "any") or isinstance(value, int)):
        raise ValueError("must be all, any, or a whole number of milestones (1 or more)")
    if isinstance(value, int) and value < 1:
        raise ValueError(f"{value} is not allowed; use a whole number of milestones, 1 or more")
    return value


def _milestone(value: Any) -> Any:
    return {"value": value} if isinstance(value, str) else value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be 100 (a 0-100 percent) or 1 (a 0-1 ratio), not a boolean")
    return value


Require = Annotated[Literal["all", "any"] | int, BeforeValidator(_require)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountDimension(Model):
    name: MemberName
    sql: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
    type: Literal["string", "number", "boolean", "time"] = "string"
    title: Text | None = None
    description: Text | None = None


class AccountsSource(Model):
    cube: CubeName = "Accounts"
    sql_table: Table | None = None
    sql: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=65536)] | None = None
    primary_key: Column = "id"
    created_at: Column = "created_at"
    dimensions: tuple[AccountDimension, ...] = ()


class LogsSource(Model):
    cube: CubeName = "MilestoneCompletionLogs"
    sql_table: Table | None = None
    sql: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=65536)] | None = None
    primary_key: Column = "id"
    account_id: Column = "account_id"
    milestone: Column = "milestone_name"
    completed_at: Column = "completion_date"
    user_id: Column | None = None


class Milestone(Model):
    value: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4096)]
    key: Ident | None = None
    title: Text | None = None


class MilestoneSet(Model):
    name: Ident
    title: Text | None = None
    description: Text | None = None
    milestones: Annotated[
        tuple[Annotated[Milestone, BeforeValidator(_milestone)], ...], Field(min_length=1, max_length=200)
    ]
    require: Require = "all"
    within_days: Annotated[int, Field(ge=1, le=36500, strict=True)] | None = None


class Definition(Model):
    version: Annotated[int, Field(ge=1, strict=True)]
    name: Ident
    description: Text | None = None
    dialect: Literal["duckdb", "postgres", "snowflake", "bigquery"] = "duckdb"
    naming: Literal["camel", "snake"] = "camel"
    percent_scale: Annotated[Literal[100, 1], BeforeValidator(_not_bool)] = 100
    pre_aggregations: Annotated[bool, Field(strict=True)] = False
    accounts: AccountsSource
    milestone_logs: LogsSource
    milestone_sets: Annotated[tuple[MilestoneSet, ...], Field(min_length=1, max_length=500)]

    @property
    def primary(self) -> MilestoneSet:
        return self.milestone_sets[0]
