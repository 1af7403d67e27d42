import datetime as dt

import polars as pl

from ingest.identity import (
    check_char,
    is_valid_id,
    is_valid_id_expr,
    mask_id,
    mask_id_expr,
    pseudonymize,
    upgrade_15,
    upgrade_15_expr,
)
from tests.support.builders import make_id


def test_check_char_of_the_standard_example():
    # GB 11643-1999's worked example: 11010519491231002X
    assert check_char("11010519491231002") == "X"
    assert is_valid_id("11010519491231002X")
    assert not is_valid_id("110105194912310021")


def test_vectorized_validity_agrees_with_the_scalar_one():
    ids = [make_id("120104", dt.date(1970 + i, 1 + i % 12, 1 + i), i, i % 2 == 0) for i in range(25)]
    broken = [i[:-1] + ("0" if i[-1] != "0" else "1") for i in ids]
    frame = pl.DataFrame({"id": ids + broken + ["12345", None]})
    got = frame.select(is_valid_id_expr(pl.col("id")))["id"].to_list()
    assert got == [is_valid_id(i) if i else False for i in frame["id"].to_list()]
    assert sum(got) == 25


def test_fifteen_digit_numbers_become_eighteen():
    assert upgrade_15("110105491231002") == "11010519491231002X"
    frame = pl.DataFrame({"id": ["110105491231002", "11010519491231002X"]})
    assert frame.select(upgrade_15_expr(pl.col("id")))["id"].to_list() == ["11010519491231002X"] * 2


def test_mask_keeps_area_and_last_four():
    assert mask_id("120104198001011234") == "120104********1234"


def test_the_id_column_mask_as_an_expression_agrees_with_mask_id():
    values = ["120104198001011234", "11010519491231002X", "110105491231002", "12345", "", "王五1201041980"]
    frame = pl.DataFrame({"id": values})
    assert frame.select(mask_id_expr("id"))["id"].to_list() == [mask_id(v) for v in values]


def test_pseudonym_is_keyed_and_stable():
    ids = pl.Series("national_id", ["11010519491231002X", None, "11010519491231002X"])
    a = pseudonymize(ids, b"key-a")
    b = pseudonymize(ids, b"key-b")
    assert a[0] == a[2] and a[1] is None
    assert a[0] != b[0]
    assert "11010519491231002X" not in a[0] and len(a[0]) == 64
