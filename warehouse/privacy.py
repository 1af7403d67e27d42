"""Masking of national IDs in any text: the one rule every output of the pipeline applies.

A national ID may be typed anywhere: in a code, a date, free text, a file's name. Whatever leaves
the reader for the warehouse, the published tables, logs, Dagster's metadata, GX's results or
the Data Docs goes through one of these functions, which all mask the same tokens the same way.

An ID-shaped token is a run of digits of 15 or more, with the one X that may directly follow it:
- 18 characters (17 digits and a digit or X: a second-generation ID) and 15 digits (a
  first-generation ID), whether their checksum holds or not;
- any longer run of digits too (an ID glued to other digits, a bank card number): masked whole,
  never cut into pieces, so no part of it is left as a bare 15-digit run.
A run is taken whole (a token never starts or ends inside a longer run); shorter runs (phone
numbers, dates, codes) are left alone.

Digits are the ASCII ones and the full-width ones (`０`-`９`, and `Ｘ`/`ｘ` for X) that a Chinese
input method types: the reader applies NFKC to some columns only, so masking must not depend on
it. Other scripts' digits are not ID-shaped. IDs typed with separators inside
(`120104 19800101 1234`) are not recognized.

A token keeps its first six characters (the area code) and its last four, as `mask_id` shows an
ID (`120104********1234`); the characters between become `*`, one each, at most nine
(`MAX_STARS`): a token longer than 19 characters is shown as 19. Masking is idempotent, and the
masked form holds no ID-shaped token.

`mask_ids_in_text` (a Python string), `mask_ids_expr` (a polars String column, vectorized: it
must give exactly `mask_ids_in_text`'s result, a property test checks it) and `mask_ids_in_data`
(the strings and numbers of JSON-like data: GX's samples and results) are the same rule.
`display_file_name` is what may be shown or stored of a received file's name.

Never apply them to hashes or keys (`person_key`, `sha256`): a hex digest often holds a run of
15 decimal digits, which masking would change.

This is the core's (`warehouse`), not `ingest`'s: `expectations` and `reporting` may not import
`ingest`. `ingest.identity` re-exports it.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

_DIGIT = "[0-9０-９]"
_X = "[XxＸｘ]"
HEAD, TAIL = 6, 4  # characters kept at each end of a token
MAX_STARS = 9  # a token of n characters shows min(n - 10, 9) stars
MIN_RUN = 15

# One ID-shaped token (Python's `re`; the same token as `mask_ids_expr`'s passes find).
ID_TOKEN = re.compile(rf"{_DIGIT}{{{MIN_RUN},}}{_X}?")

# CJK ideographs (radicals, 々〆〇, Ext. A, the unified block, compatibility, Ext. B and later):
# what a person's name is written in.
_CJK = re.compile("[\u2e80-\u2fdf\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
CJK_MASK = "＊"  # full-width asterisk: one per character replaced


def mask_token(token: str) -> str:
    """One ID-shaped token as it may be shown: `120104********1234`."""
    stars = min(len(token) - HEAD - TAIL, MAX_STARS)
    return token[:HEAD] + "*" * stars + token[-TAIL:]


def mask_ids_in_text(text: str) -> str:
    """`text` with every ID-shaped token masked (see the module's docstring)."""
    return ID_TOKEN.sub(lambda m: mask_token(m.group()), text)


def _passes() -> list[tuple[str, str]]:
    """`mask_ids_expr`'s regex replacements, in order: the longest tokens first.

    A replacement writes a fixed number of stars, so tokens are masked by length. The first pass
    takes every token of 19 characters or more (9 stars), then one pass each for 18, 17, 16 and 15.
    No pass needs to check where a run begins or ends (polars' regex has no look-around): when the
    pass of length n runs, every longer token is already masked, so n-1 digits and a digit or X
    are a whole run of n digits, or n-1 digits and their X. Not in the last pass: 14 digits and an
    X are no token (a run of 15 is the shortest), so its last character is a digit. Masked tokens
    hold stars, so no pass finds them again, and masking never joins two runs (a token is
    followed by a non-digit or ends with its X).
    """
    d, dx = _DIGIT, f"(?:{_DIGIT}|{_X})"
    head = rf"({d}{{{HEAD}}})"
    longest = HEAD + MAX_STARS + TAIL
    passes = [(rf"{head}{d}{{{MAX_STARS},}}({d}{{{TAIL - 1}}}{dx})", "${1}" + "*" * MAX_STARS + "${2}")]
    for n in range(longest - 1, MIN_RUN - 1, -1):
        stars = n - HEAD - TAIL
        tail = rf"({d}{{{TAIL}}})" if n == MIN_RUN else rf"({d}{{{TAIL - 1}}}{dx})"
        passes.append((rf"{head}{d}{{{stars}}}{tail}", "${1}" + "*" * stars + "${2}"))
    return passes


_PASSES = _passes()
_ANY_TOKEN = rf"{_DIGIT}{{{MIN_RUN}}}"  # a value without 15 digits in a row holds no token


def _mask_series(values: pl.Series) -> pl.Series:
    """The passes on the values that hold a token only: each pass copies every value it is run
    on, and a column rarely holds an ID."""
    if values.dtype == pl.Null:
        return values.cast(pl.String)
    holds = values.str.contains(_ANY_TOKEN)
    if not holds.any():
        return values
    many = holds.sum() * 4 > values.len()  # then gathering and scattering cost more than they save
    where = holds.arg_true()
    masked = values if many else values.gather(where)
    for pattern, replacement in _PASSES:
        masked = masked.str.replace_all(pattern, replacement)  # a value without a token is kept
    return masked if many else values.clone().scatter(where, masked)


def mask_ids_expr(expr: pl.Expr | str) -> pl.Expr:
    """`mask_ids_in_text` over a String column (an expression or a column's name), vectorized;
    nulls stay null, the column keeps its name.

    One regex test of every value, then `_passes` (five `str.replace_all`) on the values that
    hold a token: about 35 ms per million short values without IDs.
    """
    column = pl.col(expr) if isinstance(expr, str) else expr
    return column.map_batches(_mask_series, return_dtype=pl.String, is_elementwise=True)


def mask_ids_in_data(value: Any) -> Any:
    """`value` (a string, number, or lists, tuples and dicts of them) with every ID-shaped token
    masked, in keys too. A number, or any other value, whose text holds a token becomes its masked
    text (an ID typed in a number column); anything else is kept as it is. Dicts and lists come
    back as plain ones."""
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, dict):
        return {mask_ids_in_data(k): mask_ids_in_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_ids_in_data(v) for v in value]
    if isinstance(value, tuple):
        items = [mask_ids_in_data(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)  # a named tuple
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    masked = mask_ids_in_text(text)
    return value if masked == text else masked


def mask_names_in_text(text: str) -> str:
    """`text` with every CJK ideograph replaced by `＊` (a person's name may be in it)."""
    return _CJK.sub(CJK_MASK, text)


def display_file_name(name: str, parsed: bool) -> str:
    """What may be shown or stored (warehouse, logs, Dagster, Data Docs) of a received file's name.

    IDs are masked. A name that did not match the submission pattern (`parsed` false) can be
    anything a clerk typed (`张三_120106198503150017.xlsx`): its CJK ideographs are replaced too,
    one `＊` each (`＊＊_120106********0017.xlsx`). A name that matched is ASCII by the pattern, so
    for it the two are the same.
    """
    masked = mask_ids_in_text(name)
    return masked if parsed else mask_names_in_text(masked)
