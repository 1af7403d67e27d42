import datetime as dt

import polars as pl

from ingest.normalize import parse_bool, parse_date, parse_int, parse_number
from ingest.read import normalize_header


def _apply(expr_fn, values):
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String})
        .select(expr_fn(pl.col("v")).alias("v"))["v"]
        .to_list()
    )


def test_every_date_spelling_of_the_spec():
    spellings = [
        "2007-03-05",
        "2007/3/5",
        "2007.3.5",
        "20070305",
        "2007年3月5日",
        "2007-03-05 00:00:00",
        "39146",
    ]
    assert _apply(parse_date, spellings) == [dt.date(2007, 3, 5)] * len(spellings)


def test_impossible_dates_are_null():
    assert _apply(parse_date, ["2007-02-30", "2007-13-01", "sometime", "2007-3"]) == [None] * 4


def test_numbers_written_as_text():
    assert _apply(parse_int, ["1,234", "12", "12.0", "12.5", "x"]) == [1234, 12, 12, None, None]
    assert _apply(parse_number, ["1,234.5", "3"]) == [1234.5, 3.0]


def test_booleans():
    assert _apply(parse_bool, ["是", "否", "Y", "n", "1", "0", "TRUE", "false", "maybe"]) == [
        True, False, True, False, True, False, True, False, None,
    ]  # fmt: skip


def test_headers_full_width_spaces_star_and_aliases():
    assert normalize_header(" 公民 身份号码* ") == "公民身份号码"
    assert normalize_header("身份证号") == "公民身份号码"
    assert normalize_header("党组织编码") == "组织编码"
    assert normalize_header("ＡＢＣ") == "ABC"
    # whole-header aliases only, never substrings
    assert normalize_header("上级党组织编码") == "上级党组织编码"
