"""The spec's row rules: one pandera DataFrameModel (polars backend) per sheet.

Each rule is a vectorized check named `<rule>__<column>`: the rule is a key of
`errors.RULES`, the column is the one a person must fix. A check yields True for a good row
(nulls are good: whether a value is required is the Field's `nullable`).

Rules that look beyond the row read context columns that `validate.py` adds before validating:
`_period_start` and `_period_end` (the submission's period), and `_ref_*` booleans computed
against all rows of the sheet they name, so one bad row never cascades into others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandera.polars as pa
import polars as pl
from pandera.typing.polars import Series

from ingest.identity import is_valid_id_expr
from ingest.read import PRESENT
from warehouse.reference import code_values

ENTERPRISES = ["国有独资企业", "国有控股企业", "非公有制企业"]
TWO_NEW = ["非公有制企业", "社会组织"]


# model -> rule name -> expression (True = the row is fine), for evaluating every rule in one pass
ROW_RULES: dict[type, dict[str, Callable[[], pl.Expr]]] = {}


class row_rule:
    """A named dataframe-level check built from a polars expression (True = the row is fine)."""

    def __init__(self, expr: Callable[[], pl.Expr]):
        self.expr = expr

    def __set_name__(self, owner: type, name: str) -> None:
        expr = self.expr
        ROW_RULES.setdefault(owner, {})[name] = expr

        def check(cls: type, data: pa.PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(expr().fill_null(True))

        check.__name__ = name
        setattr(owner, name, pa.dataframe_check(check))


def in_code_list(column: str, code_list: str) -> row_rule:
    return row_rule(lambda: pl.col(column).is_in(code_values(code_list)))


def unique(*columns: str) -> row_rule:
    """Every row sharing a duplicated key fails, not just the second one.

    A key with an empty part is no key (polars counts nulls as equal): `required` reports it.
    """
    return row_rule(
        lambda: (
            (~pl.struct(columns).is_duplicated() if len(columns) > 1 else ~pl.col(columns[0]).is_duplicated())
            | pl.any_horizontal(pl.col(c).is_null() for c in columns)
        )
    )


def valid_id(column: str) -> row_rule:
    return row_rule(lambda: is_valid_id_expr(pl.col(column)) | pl.col(column).is_null())


def not_after_period_end(column: str) -> row_rule:
    return row_rule(lambda: pl.col(column) <= pl.col("_period_end"))


def inside_period(column: str) -> row_rule:
    return row_rule(lambda: pl.col(column).is_between(pl.col("_period_start"), pl.col("_period_end")))


def non_negative(column: str) -> row_rule:
    return row_rule(lambda: pl.col(column) >= 0)


class SheetModel(pa.DataFrameModel):
    class Config:
        strict = False  # _row and the context columns travel along
        coerce = False


class UnitModel(SheetModel):
    unit_code: Series[str] = pa.Field(nullable=False)
    unit_name: Series[str] = pa.Field(nullable=False)
    unit_type: Series[str] = pa.Field(nullable=False)
    covering_org_code: Series[str] = pa.Field(nullable=True)
    employee_count: Series[pl.Int64] = pa.Field(nullable=True)
    member_count: Series[pl.Int64] = pa.Field(nullable=True)
    is_high_tech: Series[bool] = pa.Field(nullable=True)
    rating: Series[str] = pa.Field(nullable=True)
    board_members: Series[pl.Int64] = pa.Field(nullable=True)
    cross_appointed: Series[pl.Int64] = pa.Field(nullable=True)
    operating_status: Series[str] = pa.Field(nullable=True)
    has_venue: Series[bool] = pa.Field(nullable=True)
    is_demo_site: Series[bool] = pa.Field(nullable=True)
    has_instructor: Series[bool] = pa.Field(nullable=True)
    built_date: Series[dt.date] = pa.Field(nullable=True)

    duplicate_key__unit_code = unique("unit_code")
    code_list__unit_type = in_code_list("unit_type", "unit_type")
    code_list__rating = in_code_list("rating", "rating")
    code_list__operating_status = in_code_list("operating_status", "operating_status")
    non_negative__employee_count = non_negative("employee_count")
    non_negative__member_count = non_negative("member_count")
    non_negative__board_members = non_negative("board_members")
    cross_appointed_range__cross_appointed = row_rule(
        lambda: (
            (pl.col("cross_appointed") >= 0)
            & (pl.col("cross_appointed") <= pl.col("board_members").fill_null(pl.col("cross_appointed")))
        )
    )
    required_for_type__employee_count = row_rule(
        lambda: (
            ~pl.col("unit_type").is_in([*ENTERPRISES, "社会组织"]) | pl.col("employee_count").is_not_null()
        )
    )
    required_for_type__member_count = row_rule(
        lambda: ~pl.col("unit_type").is_in(TWO_NEW) | pl.col("member_count").is_not_null()
    )


class OrganizationModel(SheetModel):
    org_code: Series[str] = pa.Field(nullable=False)
    org_name: Series[str] = pa.Field(nullable=False)
    org_type: Series[str] = pa.Field(nullable=False)
    parent_org_code: Series[str] = pa.Field(nullable=True)
    established_date: Series[dt.date] = pa.Field(nullable=False)

    duplicate_key__org_code = unique("org_code")
    code_list__org_type = in_code_list("org_type", "org_type")
    unknown_parent__parent_org_code = row_rule(lambda: pl.col("_ref_parent"))
    required__parent_org_code = row_rule(
        lambda: pl.col("parent_org_code").is_not_null() | (pl.col("org_code") == pl.col("_committee_org"))
    )
    after_period_end__established_date = not_after_period_end("established_date")


class MemberModel(SheetModel):
    national_id: Series[str] = pa.Field(nullable=False)
    gender: Series[str] = pa.Field(nullable=False)
    birth_date: Series[dt.date] = pa.Field(nullable=False)
    education: Series[str] = pa.Field(nullable=False)
    join_date: Series[dt.date] = pa.Field(nullable=False)
    full_member_date: Series[dt.date] = pa.Field(nullable=True)
    member_status: Series[str] = pa.Field(nullable=False)
    org_code: Series[str] = pa.Field(nullable=False)
    is_floating: Series[bool] = pa.Field(nullable=True)
    floating_managed_by: Series[str] = pa.Field(nullable=True)
    cadre_type: Series[str] = pa.Field(nullable=True)
    occupation: Series[str] = pa.Field(nullable=True)

    required__name = row_rule(lambda: pl.col(f"{PRESENT}name"))  # the name itself is never kept
    id_format__national_id = valid_id("national_id")
    duplicate_key__national_id = unique("national_id")
    code_list__gender = in_code_list("gender", "gender")
    id_gender__gender = row_rule(
        lambda: (
            ~is_valid_id_expr(pl.col("national_id"))
            | (
                (pl.col("national_id").str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1)
                == (pl.col("gender") == "男")
            )
        )
    )
    id_birth_date__birth_date = row_rule(
        lambda: (
            ~is_valid_id_expr(pl.col("national_id"))
            | (pl.col("national_id").str.slice(6, 8) == pl.col("birth_date").dt.strftime("%Y%m%d"))
        )
    )
    code_list__education = in_code_list("education", "education")
    join_age__join_date = row_rule(lambda: pl.col("join_date") >= pl.col("birth_date").dt.offset_by("18y"))
    after_period_end__join_date = not_after_period_end("join_date")
    full_before_join__full_member_date = row_rule(lambda: pl.col("full_member_date") >= pl.col("join_date"))
    code_list__member_status = in_code_list("member_status", "member_status")
    unknown_org__org_code = row_rule(lambda: pl.col("_ref_org"))
    code_list__cadre_type = in_code_list("cadre_type", "cadre_type")
    code_list__occupation = in_code_list("occupation", "occupation")


class AdmissionModel(SheetModel):
    national_id: Series[str] = pa.Field(nullable=False)
    admission_date: Series[dt.date] = pa.Field(nullable=False)
    application_date: Series[dt.date] = pa.Field(nullable=False)
    activist_date: Series[dt.date] = pa.Field(nullable=False)
    recommended: Series[bool] = pa.Field(nullable=True)
    prereviewed: Series[bool] = pa.Field(nullable=True)
    publicized: Series[bool] = pa.Field(nullable=True)
    ballot: Series[bool] = pa.Field(nullable=True)

    id_format__national_id = valid_id("national_id")
    duplicate_key__national_id = unique("national_id")
    unknown_member__national_id = row_rule(lambda: pl.col("_ref_member"))
    outside_period__admission_date = inside_period("admission_date")
    application_after_activist__application_date = row_rule(
        lambda: pl.col("application_date") <= pl.col("activist_date")
    )
    activist_after_admission__activist_date = row_rule(
        lambda: pl.col("activist_date") <= pl.col("admission_date")
    )


class ActivityModel(SheetModel):
    activity_id: Series[str] = pa.Field(nullable=False)
    org_code: Series[str] = pa.Field(nullable=False)
    activity_type: Series[str] = pa.Field(nullable=False)
    topic: Series[str] = pa.Field(nullable=True)
    organizer: Series[str] = pa.Field(nullable=True)
    start_date: Series[dt.date] = pa.Field(nullable=False)
    end_date: Series[dt.date] = pa.Field(nullable=False)
    participants: Series[pl.Int64] = pa.Field(nullable=True)

    duplicate_key__activity_id = unique("activity_id")
    unknown_org__org_code = row_rule(lambda: pl.col("_ref_org"))
    code_list__activity_type = in_code_list("activity_type", "activity_type")
    outside_period__start_date = inside_period("start_date")
    end_before_start__end_date = row_rule(lambda: pl.col("end_date") >= pl.col("start_date"))
    non_negative__participants = non_negative("participants")


class TrainingModel(SheetModel):
    activity_id: Series[str] = pa.Field(nullable=False)
    national_id: Series[str] = pa.Field(nullable=False)
    days: Series[float] = pa.Field(nullable=False)

    not_training_activity__activity_id = row_rule(
        lambda: pl.col("_activity_days").is_not_null() | pl.col("activity_id").is_null()  # empty: required
    )
    id_format__national_id = valid_id("national_id")
    unknown_member__national_id = row_rule(lambda: pl.col("_ref_member"))
    duplicate_key__national_id = unique("activity_id", "national_id")
    positive__days = row_rule(lambda: pl.col("days") > 0)
    days_over_length__days = row_rule(lambda: pl.col("days") <= pl.col("_activity_days"))


MODELS: dict[str, type[SheetModel]] = {
    "units": UnitModel,
    "organizations": OrganizationModel,
    "members": MemberModel,
    "admissions": AdmissionModel,
    "activities": ActivityModel,
    "training": TrainingModel,
}


def checked_rules() -> list[str]:
    """Every rule id the models check (`required` included), for the audit trail."""
    return sorted({"required"} | {name.split("__")[0] for rules in ROW_RULES.values() for name in rules})
