"""Masking of ID-shaped tokens in any text: examples, and properties over generated text.

`mask_ids_in_text` (Python's `re`) and `mask_ids_expr` (polars' regex passes) are two
implementations of one rule (warehouse/privacy.py): the properties check that an ID planted
anywhere never survives either, that they agree on any text, and that other text is left as it is.
"""

from __future__ import annotations

import datetime as dt
import decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import identity
from ingest.identity import is_valid_id
from warehouse.privacy import (
    ID_TOKEN,
    display_file_name,
    mask_ids_expr,
    mask_ids_in_data,
    mask_ids_in_text,
    mask_token,
)

VALID = "120106198503150017"  # 18 digits, checksum holds
BAD_CHECKSUM = "120106198503150018"
WITH_X = "11010519491231002X"  # GB 11643's own example
FIFTEEN = "120106850315001"
FULL_WIDTH = VALID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
PLANTED = [
    VALID,
    BAD_CHECKSUM,
    WITH_X,
    WITH_X.lower(),
    FIFTEEN,
    FULL_WIDTH,
    "１１０１０５１９４９１２３１００２Ｘ",
]


def _expr(values: list[str | None]) -> list[str | None]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(mask_ids_expr("v"))["v"].to_list()


# --- examples ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("120106198503150017", "120106********0017"),
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002x"),
        ("120106850315001", "120106*****5001"),  # first generation
        ("1201061985031500", "120106******1500"),  # 16 digits: an ID missing its last two
        ("12010619850315001", "120106*******5001"),
        ("1201061985031500171", "120106*********0171"),  # 19: a bank card number
        ("12" * 20, "121212*********1212"),  # longer runs: masked whole, at most nine stars
        ("120106198503150017120106198503150025", "120106*********0025"),  # two glued: one run
        ("身份证120106198503150017号", "身份证120106********0017号"),  # no word boundary needed
        ("1985-03-15 120106198503150017", "1985-03-15 120106********0017"),
        ("a120106198503150017,120106198503150025;", "a120106********0017,120106********0025;"),
        ("12010619850315001X5", "120106********001X5"),  # the X ends the token
        ("１２０１０６１９８５０３１５００１７", "１２０１０６********００１７"),  # full-width
        ("120106１９８５０３１５0017", "120106********0017"),  # half full-width
        ("12345678901234", "12345678901234"),  # 14 digits: not ID-shaped
        ("13812345678 2007-03-05 20070305", "13812345678 2007-03-05 20070305"),
        ("1201061985 03150017", "1201061985 03150017"),  # separated: not recognized (documented)
        ("", ""),
    ],
)
def test_examples(text: str, masked: str):
    assert mask_ids_in_text(text) == masked
    assert _expr([text]) == [masked]


def test_an_eighteen_character_id_is_masked_as_mask_id_masks_it():
    assert is_valid_id(VALID) and is_valid_id(WITH_X) and not is_valid_id(BAD_CHECKSUM)
    for national_id in (VALID, BAD_CHECKSUM, WITH_X):
        assert mask_ids_in_text(national_id) == identity.mask_id(national_id) == mask_token(national_id)


def test_the_expression_keeps_nulls_the_name_and_works_lazily():
    frame = pl.DataFrame({"v": [f"x{VALID}", None, "plain"], "n": [1, 2, 3]})
    lazy = frame.lazy().with_columns(mask_ids_expr(pl.col("v")), w=mask_ids_expr("v")).collect()
    assert lazy["v"].to_list() == ["x120106********0017", None, "plain"]
    assert lazy["w"].to_list() == lazy["v"].to_list() and lazy["n"].to_list() == [1, 2, 3]
    assert frame["v"][0] == f"x{VALID}"  # the input frame is left alone
    nulls = pl.DataFrame({"v": [None, None]}).select(mask_ids_expr("v"))
    assert nulls["v"].dtype == pl.String and nulls["v"].to_list() == [None, None]


def test_a_column_of_ids_only_and_one_with_a_few():
    assert _expr([VALID] * 10) == ["120106********0017"] * 10
    values = ["甲村", None, VALID, "乙村"] + ["x"] * 20 + [f"{FIFTEEN} {WITH_X}"]
    assert _expr(values) == [None if v is None else mask_ids_in_text(v) for v in values]


def test_data_is_masked_in_strings_keys_and_numbers():
    data = {
        "unit_code": VALID,
        VALID: [int(VALID[:-1]), decimal.Decimal(FIFTEEN), 12, 3.5, True, None, ("a", FIFTEEN)],
        "nested": {"when": dt.date(2007, 3, 5), "n": 120106198503150017},
    }
    assert mask_ids_in_data(data) == {
        "unit_code": "120106********0017",
        "120106********0017": [
            "120106*******5001",
            "120106*****5001",
            12,
            3.5,
            True,
            None,
            ("a", "120106*****5001"),
        ],
        "nested": {"when": dt.date(2007, 3, 5), "n": "120106********0017"},
    }


@pytest.mark.parametrize(
    ("name", "parsed", "shown"),
    [
        ("张三_120106198503150017.xlsx", False, "＊＊_120106********0017.xlsx"),
        ("120104_2007H1_v2.xlsx", True, "120104_2007H1_v2.xlsx"),
        ("120104_2007H1.xlsx", False, "120104_2007H1.xlsx"),  # a valid name loses nothing either way
        ("欧阳娜娜·阿依古丽 报表(终稿).xlsx", False, "＊＊＊＊·＊＊＊＊ ＊＊(＊＊).xlsx"),
        ("𠮷田_report.zip", False, "＊＊_report.zip"),  # an ideograph beyond the basic plane
        ("report 110105491231002.zip", True, "report 110105*****1002.zip"),
    ],
)
def test_display_file_name(name: str, parsed: bool, shown: str):
    assert display_file_name(name, parsed) == shown


def test_identity_reexports_the_one_rule():
    assert identity.mask_ids_in_text is mask_ids_in_text
    assert identity.mask_ids_expr is mask_ids_expr
    assert identity.display_file_name is display_file_name
    assert identity.ID_LIKE is ID_TOKEN


# --- properties ----------------------------------------------------------------------------------

DIGITS = "0123456789０１２３４５６７８９"
OTHER = "Xxｘ＊*-_ /.,:年月日甲村张三王abcAZ\n\t·"
# runs of digits of every length around 15, X where it matters, and other characters between
digit_runs = st.text(alphabet=DIGITS, min_size=1, max_size=40)
pieces = st.one_of(
    digit_runs, st.sampled_from(["X", "x", "Ｘ", "ｘ", "*"]), st.text(alphabet=OTHER, max_size=4)
)
texts = st.lists(pieces, max_size=8).map("".join)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(before=texts, after=texts, planted=st.sampled_from(PLANTED))
def test_a_planted_id_never_survives(before: str, after: str, planted: str):
    text = before + planted + after
    for masked in (mask_ids_in_text(text), _expr([text])[0]):
        assert planted not in masked
        assert ID_TOKEN.search(masked) is None  # nothing ID-shaped is left, glued or not


@PROPERTY
@given(values=st.lists(st.one_of(texts, st.none(), st.text(max_size=30)), max_size=12))
def test_both_implementations_agree(values: list[str | None]):
    # the passes on the few values that hold a token, or on all of them: both paths are taken
    assert _expr(values) == [None if v is None else mask_ids_in_text(v) for v in values]


short_runs = st.text(alphabet=DIGITS, min_size=1, max_size=14)
no_token = st.lists(
    st.tuples(short_runs, st.text(alphabet=OTHER.replace("X", "").replace("x", ""), min_size=1, max_size=5)),
    max_size=6,
).map(lambda parts: "".join(a + b for a, b in parts))


@PROPERTY
@given(
    text=st.one_of(no_token, st.text(alphabet=st.characters(blacklist_categories=["Nd", "Cs"]), max_size=40))
)
def test_text_without_an_id_shaped_token_is_unchanged(text: str):
    assert mask_ids_in_text(text) == text
    assert _expr([text]) == [text]


@PROPERTY
@given(text=texts)
def test_masking_is_idempotent(text: str):
    once = mask_ids_in_text(text)
    assert mask_ids_in_text(once) == once
    assert _expr([once]) == [once]
