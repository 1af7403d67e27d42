"""National IDs (GB 11643-1999): checksum, 15→18 conversion, masking and the keyed pseudonym.

The pseudonym is HMAC-SHA256 over the normalized 18-character ID with a secret key that comes
from the environment. It is computed before any row reaches DuckDB; the warehouse only ever
sees `person_key`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import polars as pl

from warehouse.privacy import ID_TOKEN
from warehouse.privacy import display_file_name as display_file_name  # re-exported
from warehouse.privacy import mask_ids_expr as mask_ids_expr
from warehouse.privacy import mask_ids_in_data as mask_ids_in_data
from warehouse.privacy import mask_ids_in_text as mask_ids_in_text

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_id(national_id: str) -> bool:
    return (
        len(national_id) == 18
        and national_id[:17].isdigit()
        and check_char(national_id[:17]) == national_id[17]
    )


def upgrade_15(national_id: str) -> str:
    """A first-generation 15-digit number as its 18-character form (19 before the year)."""
    first17 = national_id[:6] + "19" + national_id[6:]
    return first17 + check_char(first17)


def mask_id(national_id: str | None) -> str | None:
    """`120104********1234`: the area code and the last four kept, as the spec shows."""
    if national_id is None:
        return None
    if len(national_id) <= 10:
        return "*" * len(national_id)
    return national_id[:6] + "*" * (len(national_id) - 10) + national_id[-4:]


# A national ID typed where it does not belong (in a code, a date, free text, a file's name): every
# ID-shaped token (15 digits or more, with the X that may follow) is masked by the one rule of
# `warehouse.privacy`, the core's so that `expectations` and `reporting` use it too. Its functions,
# re-exported here: `mask_ids_in_text` (a string), `mask_ids_expr` (a polars String column, the
# same result), `mask_ids_in_data` (JSON-like data), `display_file_name` (a received file's name).
ID_LIKE = ID_TOKEN


def mask_id_expr(column: str) -> pl.Expr:
    """`mask_id` as a polars expression, for whole columns: the value of an ID column, whatever
    it holds (`mask_ids_expr` masks the ID-shaped tokens of any other text)."""
    col = pl.col(column)
    n = col.str.len_chars()
    return (
        pl.when(n > 10)
        .then(col.str.slice(0, 6) + pl.lit("*").repeat_by(n - 10).list.join("") + col.str.slice(-4))
        .otherwise(pl.lit("*").repeat_by(n).list.join(""))
    )


def hmac_hex(key: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 (hex) of a string under `key`, as `hmac.new(key, value, sha256).hexdigest()`.

    The padded key's inner and outer SHA-256 states are computed once and copied per value:
    a third of the cost of `hmac.new(...).copy()` per value, which matters at a million IDs.
    """
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def one(value: str) -> str:
        i = inner.copy()
        i.update(value.encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return one


def pseudonym_map(ids: Iterable[pl.Series], key: bytes) -> pl.DataFrame:
    """`_id` → `_key` (its HMAC), once for every distinct ID in all of `ids`."""
    uniques = pl.concat([s.cast(pl.String).rename("_id") for s in ids]).drop_nulls().unique()
    one = hmac_hex(key)
    return pl.DataFrame(
        {"_id": uniques, "_key": [one(v) for v in uniques.to_list()]},
        schema={"_id": pl.String, "_key": pl.String},
    )


def pseudonymize(ids: pl.Series, key: bytes, mapping: pl.DataFrame | None = None) -> pl.Series:
    """HMAC-SHA256 (hex) of every ID; computed once per distinct ID (or looked up in `mapping`,
    a `pseudonym_map` that holds every ID of `ids`)."""
    if mapping is None:
        mapping = pseudonym_map([ids], key)
    frame = pl.DataFrame({"_id": ids})
    return frame.join(mapping, on="_id", how="left", maintain_order="left")["_key"].alias(ids.name)


def check_char_expr(first17: pl.Expr) -> pl.Expr:
    """`check_char` over a column of 17-digit strings (null where not 17 digits)."""
    total = pl.sum_horizontal(
        first17.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(_WEIGHTS)
    )
    return total.mod(11).replace_strict(dict(enumerate(_CHECK_CHARS)), return_dtype=pl.String)


def is_valid_id_expr(ids: pl.Expr) -> pl.Expr:
    """`is_valid_id` over a column."""
    return ids.str.contains(r"^\d{17}[\dX]$").fill_null(False) & (
        check_char_expr(ids.str.slice(0, 17)) == ids.str.slice(17, 1)
    ).fill_null(False)


def upgrade_15_expr(ids: pl.Expr) -> pl.Expr:
    """15-digit first-generation numbers as 18 characters; other values unchanged."""
    first17 = ids.str.slice(0, 6) + pl.lit("19") + ids.str.slice(6)
    return pl.when(ids.str.contains(r"^\d{15}$")).then(first17 + check_char_expr(first17)).otherwise(ids)
