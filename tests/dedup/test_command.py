import csv

import pytest
from django.core.management import CommandError, call_command

HEADER = ["No", "会社名", "氏名", "フリガナ", "メール", "電話番号", "郵便番号", "住所"]
TOWN = "東京都千代田区丸の内"
ROWS = [
    ["1", "(株)ABC", "佐藤 太郎", "サトウ タロウ", "taro.sato@abc.co.jp", "03-1111-2222",
     "〒100-0005", f"{TOWN}1丁目2番3号"],
    ["2", "ABC㈱", "佐藤　太郎", "", "Taro.Sato+expo@ABC.co.jp", "+81 3 1111 2222", "1000005",
     f"{TOWN}1-2-3"],
    ["3", "株式会社ＡＢＣ", "鈴木 花子", "スズキ ハナコ", "info@abc.co.jp", "03-9999-0000", "", ""],
    ["4", "ABC", "田中 一郎", "タナカ イチロウ", "info@abc.co.jp", "03-9999-0000", "", ""],
    ["5", "XYZ株式会社", "佐藤 太郎", "サトウ タロウ", "", "", "", ""],
]  # fmt: skip


def write_csv(path, rows, encoding="cp932", header=HEADER):
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_clusters(path):
    with open(path, encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["record_id", "cluster_id"]
        return dict(reader)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_command_clusters_a_shift_jis_csv(tmp_path, encoding):
    source = write_csv(tmp_path / "cards.csv", ROWS, encoding=encoding)
    output = tmp_path / "clusters.csv"
    matches = tmp_path / "matches.csv"
    call_command(
        "dedup",
        "--input", str(source), "--entity", "contact", "--output", str(output),
        "--matches", str(matches), verbosity=0,
    )  # fmt: skip
    clusters = read_clusters(output)
    assert set(clusters) == {"1", "2", "3", "4", "5"}
    assert clusters["1"] == clusters["2"] == "1"
    assert len({clusters["3"], clusters["4"], clusters["5"], clusters["1"]}) == 4
    assert "メール: agreed" in matches.read_text(encoding="utf-8")


def test_command_takes_explicit_fields_and_id_column(tmp_path):
    header = ["key", "name", "org", "tel"]
    rows = [
        ["a", "김민수", "(주)한빛", "010-1234-5678"],
        ["b", "김 민수", "주식회사 한빛", "+82 10 1234 5678"],
        ["c", "이지영", "㈜한빛", "010-9999-8888"],
    ]
    source = write_csv(tmp_path / "in.csv", rows, encoding="utf-8", header=header)
    output = tmp_path / "out.csv"
    call_command(
        "dedup", "--input", str(source), "--output", str(output), "--id-column", "key",
        "--field", "name:full_name", "--field", "org:company", "--field", "tel:phone",
        "--region", "KR", verbosity=0,
    )  # fmt: skip
    clusters = read_clusters(output)
    assert clusters == {"a": "a", "b": "a", "c": "c"}


def test_command_links_two_files(tmp_path):
    left = write_csv(tmp_path / "a.csv", ROWS[:1], encoding="utf-8")
    right = write_csv(tmp_path / "b.csv", [["9", *ROWS[1][1:]], ["8", *ROWS[4][1:]]])
    output = tmp_path / "out.csv"
    call_command(
        "dedup", "--input", str(left), "--input", str(right), "--output", str(output),
        verbosity=0,
    )  # fmt: skip
    assert read_clusters(output) == {"1": "1", "9": "1", "8": "8"}


def test_rows_without_an_id_column_are_numbered(tmp_path):
    source = write_csv(tmp_path / "in.csv", [row[1:] for row in ROWS], header=HEADER[1:])
    output = tmp_path / "out.csv"
    call_command("dedup", "--input", str(source), "--output", str(output), verbosity=0)
    clusters = read_clusters(output)
    assert list(clusters) == ["1", "2", "3", "4", "5"]
    assert clusters["2"] == "1"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--input", "{tmp}/nowhere.csv"], "File not found"),
        (["--input", "{tmp}/in.csv", "--field", "氏名:shoe_size"], "Unknown field kind"),
        (["--input", "{tmp}/in.csv", "--field", "氏名"], "COLUMN:KIND"),
        (["--input", "{tmp}/in.csv", "--field", "年齢:text"], "has no column “年齢”"),
        (["--input", "{tmp}/in.csv", "--id-column", "ID番号"], "has no column “ID番号”"),
        (["--input", "{tmp}/binary.csv"], "neither UTF-8 nor Shift_JIS"),
        (["--input", "{tmp}/empty.csv"], "is empty"),
        (["--input", "{tmp}/dupes.csv"], "appears twice"),
        (["--input", "{tmp}/ragged.csv"], "row 3 has 10 cells"),
        (["--input", "{tmp}/unknown.csv"], "No column says what it holds"),
        (["--input", "{tmp}/in.csv", "--merge-threshold", "0.2"], "Thresholds"),
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(tmp_path, arguments, message):
    write_csv(tmp_path / "in.csv", ROWS)
    (tmp_path / "binary.csv").write_bytes(b"\x80\xff\xfe\x00\x81\x00")
    (tmp_path / "empty.csv").write_text("\n\n")
    write_csv(tmp_path / "dupes.csv", [ROWS[0], ROWS[0]])
    write_csv(tmp_path / "ragged.csv", [ROWS[0], [*ROWS[1], "x", "y"]])
    write_csv(tmp_path / "unknown.csv", [["1", "2"]], header=["foo", "bar"])
    output = tmp_path / "out.csv"
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("dedup", *arguments, "--output", str(output), verbosity=0)
    assert not output.exists()
