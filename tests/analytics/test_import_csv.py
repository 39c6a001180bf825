"""Reading Meta and Google CSV exports with their real quirks, and refusing bad files clearly."""

from __future__ import annotations

import codecs
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.analytics.importers import (
    BadReport,
    GoogleCsv,
    MetaCsv,
    PerformanceSource,
    read_csv_report,
    sniff_source,
)
from pipeline.analytics.importers.base import ad_key_of
from pipeline.analytics.importers.tabular import decimal_mark
from pipeline.analytics.stats import creative_totals
from pipeline.errors import BadInput

DATA = Path(__file__).with_name("data")


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_meta_export_with_usd_suffix_thousands_separators_dashes_and_a_summary_row() -> None:
    report = read_csv_report(_read("meta_usd.csv"), name="meta_usd.csv")

    assert report.source == "meta_csv" and report.skipped == 1
    assert [r.line for r in report.rows] == [3, 4, 5]
    first, quiet, other = report.rows
    assert first.candidates() == ["rf-0a1b2c3d4e5f"]
    assert (first.period_start, first.period_end) == (date(2024, 5, 1), date(2024, 5, 31))
    assert first.currency == "USD"
    assert (first.impressions, first.clicks, first.spend) == (12345, 234, Decimal("1234.56"))
    assert (first.purchases, first.revenue) == (12, Decimal("359.88"))
    assert (first.video_3s_plays, first.thruplays) == (4321, 1234)
    # "—" is a blank: no clicks, no purchases, and, in video columns the export has, no plays.
    assert (quiet.clicks, quiet.purchases, quiet.revenue) == (0, 0, Decimal(0))
    assert (quiet.video_3s_plays, quiet.thruplays) == (0, 0)
    assert other.ad_name == "Summer sale static image" and other.candidates() == []


def test_google_report_with_title_date_range_and_total_rows() -> None:
    report = read_csv_report(_read("google_ads.csv"), name="google_ads.csv")

    assert report.source == "google_csv" and report.skipped == 3
    assert [r.line for r in report.rows] == [4, 5, 6]
    video, renamed, search = report.rows
    assert {(r.period_start, r.period_end) for r in report.rows} == {
        (date(2024, 5, 1), date(2024, 5, 31))
    }
    assert video.utm_content == "rf-2c3d4e5f6071"
    assert (video.impressions, video.clicks, video.spend, video.revenue) == (
        1234,
        56,
        Decimal("25.20"),
        Decimal("74.75"),
    )
    assert video.purchases == 3  # 2.50 modelled conversions, rounded half up
    assert video.thruplays == 1010 and video.video_3s_plays is None
    # The ad was renamed: the id still comes from the final URL's utm_content.
    assert renamed.candidates() == ["rf-3d4e5f607182"]
    assert search.candidates() == [] and search.thruplays == 0  # " --" in a TrueView column
    assert video.ad_key == (
        "Espresso video | Cups | AUR-ESP-01_product_showcase_16x9_o1_rf-2c3d4e5f6071"
    )


def test_meta_utf16_tab_separated_export_with_decimal_commas_days_and_placements() -> None:
    report = read_csv_report(_read("meta_utf16.tsv"), name="meta_utf16.tsv")

    assert report.source == "meta_csv"
    reels, facebook, cafe = report.rows
    assert reels.currency == "EUR" and reels.spend == Decimal("1234.56")
    assert (reels.impressions, reels.video_3s_plays, reels.thruplays) == (12345, 4321, 1234)
    assert reels.revenue == Decimal("89.70")
    assert (reels.period_start, reels.period_end) == (date(2024, 5, 1), date(2024, 5, 1))
    assert reels.placement == "instagram:instagram reels"
    assert facebook.placement == "facebook:facebook reels" and facebook.spend == Decimal("98.10")
    assert cafe.ad_name == "Café crème — été" and cafe.spend == Decimal("12.5")
    assert cafe.period_start == date(2024, 5, 2)


def test_utf8_byte_order_mark_is_not_part_of_the_first_header_and_urls_carry_the_id() -> None:
    data = _read("meta_bom.csv")
    assert data.startswith(codecs.BOM_UTF8)

    report = read_csv_report(data, name="meta_bom.csv")

    assert report.rows[0].ad_name == "Spring cup ad – version B"
    assert report.rows[0].candidates() == ["rf-1b2c3d4e5f60"]
    assert report.rows[0].currency == "GBP"
    assert report.rows[1].candidates() == []


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("meta_usd.csv", "meta"),
        ("meta_utf16.tsv", "meta"),
        ("meta_bom.csv", "meta"),
        ("google_ads.csv", "google"),
    ],
)
def test_the_source_is_told_by_the_header(name: str, source: str) -> None:
    assert sniff_source(_read(name), name=name) == source


def test_csv_sources_are_performance_sources() -> None:
    sources: list[PerformanceSource] = [
        MetaCsv(_read("meta_usd.csv"), name="m.csv"),
        GoogleCsv(_read("google_ads.csv"), name="g.csv"),
    ]

    assert [s.fetch().source for s in sources] == ["meta_csv", "google_csv"]
    assert [s.source for s in sources] == ["meta_csv", "google_csv"]


def test_the_digest_is_the_files_hash_so_the_same_file_is_recognised() -> None:
    once = read_csv_report(_read("meta_usd.csv"), name="a.csv")
    again = read_csv_report(_read("meta_usd.csv"), name="b.csv")

    assert once.digest == again.digest and once.rows == again.rows


META_HEADER = "Reporting starts,Reporting ends,Ad name,Amount spent (USD),Impressions,Link clicks"
GOOD_META = "2024-05-01,2024-05-31,A rf-0a1b2c3d4e5f,10.00,100,1"

# (case, file bytes, line, column, words in the message)
BAD: list[tuple[str, bytes, int | None, str, str]] = [
    ("unknown source", b"Date,Views,Likes\n2024-05-01,10,2\n", 1, "", "unknown report source"),
    ("missing column", b"Reporting starts,Reporting ends,Ad name,Amount spent (USD),Link clicks\n2024-05-01,2024-05-31,A,1,1\n", 1, "Impressions", "required column is missing"),
    ("non-numeric metric", f"{META_HEADER}\n{GOOD_META}\n2024-05-01,2024-05-31,B,1.00,12x,1\n".encode(), 3, "Impressions", "'12x' is not a number"),
    ("negative spend", f"{META_HEADER}\n{GOOD_META}\n2024-05-01,2024-05-31,B,-3.00,1,1\n".encode(), 3, "Amount spent (USD)", "is negative"),
    ("fractional count", f"{META_HEADER}\n2024-05-01,2024-05-31,B,1.00,10.5,1\n".encode(), 2, "Impressions", "not a whole number"),
    ("bad date", f"{META_HEADER}\n2024-05-01,31/05/2024,B,1.00,1,1\n".encode(), 2, "Reporting ends", "is not a date"),
    ("period ends first", f"{META_HEADER}\n2024-05-31,2024-05-01,B,1.00,1,1\n".encode(), 2, "Reporting ends", "ends before"),
    ("windows-1252", f"{META_HEADER}\n{GOOD_META}\n2024-05-01,2024-05-31,Café,1.00,1,1\n".encode("cp1252"), 3, "", "is not UTF-8 text (byte 0xe9)"),
    ("utf-16 without BOM", f"{META_HEADER}\n{GOOD_META}\n".encode("utf-16-le"), 1, "", "UTF-16 without a byte-order mark"),
    ("empty", b"", 1, "", "is empty"),
    ("unclosed quote", f'{META_HEADER}\n{GOOD_META}\n2024-05-01,2024-05-31,"B,1.00,1,1\n'.encode(), 3, "", "not valid CSV"),
    ("google without currency", b"Ad report\nMay 1, 2024 - May 31, 2024\nAd name,Impr.,Clicks,Cost\nA,1,1,1.00\n", 3, "Currency code", "required column is missing"),
    ("google without period", b"Ad name,Currency code,Impr.,Clicks,Cost\nA,USD,1,1,1.00\n", 1, "", "no reporting period"),
    ("google bad cost", b'Ad report\n"May 1, 2024 - May 31, 2024"\nAd name,Currency code,Impr.,Clicks,Cost\nA,USD,1,1,1.00\nB,USD,2,1,"12,3,4x"\n', 5, "Cost", "is not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data", "line", "column", "words"), BAD, ids=[c[0] for c in BAD])
def test_a_bad_file_is_refused_naming_line_and_column(
    case: str, data: bytes, line: int | None, column: str, words: str
) -> None:
    with pytest.raises(BadReport) as failure:
        read_csv_report(data, name="upload.csv")

    error = failure.value
    assert isinstance(error, BadInput)  # the CLI exits 2, the API answers 422
    assert (error.file, error.line, error.column) == ("upload.csv", line, column)
    assert words in error.message
    assert error.message.startswith(f"upload.csv, line {line}")
    if column:
        assert f'column "{column}"' in error.message


def test_a_file_given_as_the_wrong_source_is_refused() -> None:
    with pytest.raises(BadReport, match="not a Google Ads report"):
        read_csv_report(_read("meta_usd.csv"), name="m.csv", source="google")
    with pytest.raises(BadReport, match="not a Meta Ads Manager export"):
        read_csv_report(_read("google_ads.csv"), name="g.csv", source="meta")


def test_google_currency_can_be_given_when_the_report_has_none() -> None:
    data = b"Ad report\nMay 1, 2024 - May 31, 2024\nAd name,Impr.,Clicks,Cost\nA rf-0a1b2c3d4e5f,1,1,1.00\n"

    report = read_csv_report(data, name="g.csv", currency="EUR")

    assert report.rows[0].currency == "EUR"


def test_google_daily_rows_use_their_day() -> None:
    data = b'Day,Ad name,Currency code,Impr.,Clicks,Cost\n2024-05-02,A,USD,10,1,0.50\n"May 3, 2024",A,USD,12,0,0.40\n'

    rows = read_csv_report(data, name="g.csv").rows

    assert [(r.period_start, r.period_end) for r in rows] == [
        (date(2024, 5, 2), date(2024, 5, 2)),
        (date(2024, 5, 3), date(2024, 5, 3)),
    ]


@pytest.mark.parametrize(
    ("cells", "mark"),
    [
        (["1,234", "12", "1,234.56"], "."),
        (["1.234,56", "12"], ","),
        (["12,5", "3"], ","),
        (["12.50", "1,234"], "."),
        (["1,234", "5,678"], "."),  # three digits after a comma: thousands, by default
        (["12,5", "12.50"], "."),  # contradictory: not assumed to be a decimal comma
    ],
)
def test_the_decimal_mark_is_decided_from_the_whole_file(cells: list[str], mark: str) -> None:
    assert decimal_mark(cells) == mark


def test_a_multi_line_quoted_cell_keeps_later_line_numbers_right() -> None:
    data = (
        f'{META_HEADER}\n2024-05-01,2024-05-31,"two\nlines rf-0a1b2c3d4e5f",10.00,100,1\n'
        "2024-05-01,2024-05-31,B,1.00,oops,1\n"
    ).encode()

    with pytest.raises(BadReport) as failure:
        read_csv_report(data, name="m.csv")

    assert failure.value.line == 4


def test_a_dash_in_a_video_column_is_zero_plays_and_only_a_missing_column_is_unknown() -> None:
    header = f"{META_HEADER.replace('Ad name', 'Day,Ad name')},3-second video plays,ThruPlays"
    data = (
        f"{header}\n"
        '2024-05-01,2024-05-02,2024-05-01,x_rf-0a1b2c3d4e5f,10.00,"1,000",10,300,100\n'
        "2024-05-01,2024-05-02,2024-05-02,x_rf-0a1b2c3d4e5f,5.00,500,—,—,—\n"
    ).encode()

    rows = [
        r.joined("meta_csv", "rf-0a1b2c3d4e5f") for r in read_csv_report(data, name="m.csv").rows
    ]

    assert [(r.video_3s_plays, r.thruplays) for r in rows] == [(300, 100), (0, 0)]
    # The quiet day's impressions stay in the hook rate's base: 300 plays in 1,500 impressions.
    totals = creative_totals(rows)["rf-0a1b2c3d4e5f"]
    assert totals.value("hook_rate") == pytest.approx(0.2)
    assert totals.value("thruplay_rate") == pytest.approx(100 / 1500)
    without = read_csv_report(f"{META_HEADER}\n{GOOD_META}\n".encode(), name="m.csv").rows[0]
    assert (without.video_3s_plays, without.thruplays) == (None, None)
    google = b'Ad report\n"May 1, 2024 - May 31, 2024"\nAd name,Currency code,Impr.,Clicks,Cost\nA,USD,1,1,1.00\n'
    assert read_csv_report(google, name="g.csv").rows[0].thruplays is None


def test_only_real_summary_rows_are_skipped_never_an_ad_named_total() -> None:
    meta = (
        f"{META_HEADER}\n"
        '2024-05-01,2024-05-31,Results from 3 ads,150.00,"15,000",160\n'
        '2024-05-01,2024-05-31,TOTAL-01_product_showcase_9x16_o1_rf-0a1b2c3d4e5f,100.00,"10,000",120\n'
        '2024-05-01,2024-05-31,Total glow serum_rf-1b2c3d4e5f60,50.00,"5,000",40\n'
        "2024-05-01,2024-05-31,Results from 3 ads rf-2c3d4e5f6071,1.00,10,1\n"
        "2024-05-01,2024-05-31,Total refresh (no id),1.00,10,1\n"
        'Total,,,151.00,"15,010",161\n'
    ).encode()

    report = read_csv_report(meta, name="m.csv")

    assert report.skipped == 2
    assert [r.line for r in report.rows] == [3, 4, 5, 6]
    google = (
        b'Ad report\n"May 1, 2024 - May 31, 2024"\n'
        b"Campaign,Ad group,Ad name,Final URL,Currency code,Impr.,Clicks,Cost\n"
        b'Total Care launch,Cups,AUR_product_showcase_16x9_o1_rf-2c3d4e5f6071,,USD,"1,234",56,25.20\n'
        b"Total: Spring,Cups,Cup ad,https://x.test/?utm_content=rf-3d4e5f607182,USD,10,1,1.00\n"
        b'Total: Account,,,,USD,"1,244",57,26.20\n'
        b"Total campaigns,,,,USD,1,1,1.00\n"
    )

    report = read_csv_report(google, name="g.csv")

    assert report.skipped == 1
    assert [r.line for r in report.rows] == [4, 5, 7]
    assert report.rows[0].candidates() == ["rf-2c3d4e5f6071"]


def test_each_ad_is_named_by_campaign_ad_set_and_ad_or_its_id() -> None:
    meta = (
        "Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Amount spent (USD),"
        "Impressions,Link clicks\n"
        "2024-05-01,2024-05-31,Spring,Cups 25-34,x_rf-0a1b2c3d4e5f,10.00,100,1\n"
        "2024-05-01,2024-05-31,Retarget,—,x_rf-0a1b2c3d4e5f,10.00,100,1\n"
    ).encode()

    spring, retarget = read_csv_report(meta, name="m.csv").rows

    assert spring.ad_key == "Spring | Cups 25-34 | x_rf-0a1b2c3d4e5f"
    assert retarget.ad_key == "Retarget | x_rf-0a1b2c3d4e5f"
    bare = read_csv_report(f"{META_HEADER}\n{GOOD_META}\n".encode(), name="m.csv").rows[0]
    assert bare.ad_key == "A rf-0a1b2c3d4e5f"
    google = (
        b'Ad report\n"May 1, 2024 - May 31, 2024"\n'
        b"Campaign,Ad group,Ad ID,Ad name,Currency code,Impr.,Clicks,Cost\n"
        b"Launch,Cups,681234567890,x_rf-2c3d4e5f6071,USD,10,1,1.00\n"
    )
    assert read_csv_report(google, name="g.csv").rows[0].ad_key == "Launch | Cups | 681234567890"
    assert ad_key_of("a" * 600, "b" * 600).startswith("sha256:")
