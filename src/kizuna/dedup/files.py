"""File in, file out: the engine over CSV files, without a database.

``kizuna dedup`` is a thin wrapper around ``dedup_files``; the benchmarks call
the same function.
"""

import csv
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from kizuna.dedup.clustering import cluster_result
from kizuna.dedup.engine import Band, Engine, FieldSpec, Result, Thresholds
from kizuna.dedup.kinds import ENTITIES, KINDS, guess_fields, guess_id_column

ENCODINGS = ("utf-8-sig", "cp932")


class DedupInputError(Exception):
    """Bad input for the file-in, file-out command; the message is translated."""


@dataclass
class Table:
    path: Path
    header: list[str]
    rows: list[list[str]]
    encoding: str


@dataclass
class Summary:
    records: int
    clusters: int
    merged_records: int
    candidate_pairs: int
    review_pairs: int
    fields: list[FieldSpec]
    result: Result


def read_table(path: str | os.PathLike) -> Table:
    """Read a CSV file in UTF-8 (with or without BOM) or Shift_JIS (CP932)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DedupInputError(_("File not found: %(path)s") % {"path": path}) from None
    except IsADirectoryError:
        raise DedupInputError(_("%(path)s is a folder, not a file.") % {"path": path}) from None
    except OSError as exc:
        raise DedupInputError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from None
    for encoding in ENCODINGS:
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DedupInputError(
            _("Cannot read %(path)s: it is neither UTF-8 nor Shift_JIS (CP932) text.")
            % {"path": path}
        )
    try:
        rows = list(csv.reader(io.StringIO(content, newline="")))
    except csv.Error as exc:
        raise DedupInputError(
            _("%(path)s is not a valid CSV file: %(error)s") % {"path": path, "error": exc}
        ) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DedupInputError(_("%(path)s is empty.") % {"path": path})
    header = [cell.strip() for cell in rows[0]]
    width = len(header)
    body = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise DedupInputError(
                _("%(path)s, row %(row)d has %(found)d cells but the header has %(expected)d.")
                % {"path": path, "row": line, "found": len(row), "expected": width}
            )
        body.append(row[:width] + [""] * (width - len(row)))
    return Table(path, header, body, encoding)


def parse_field(value: str) -> tuple[str, str]:
    column, sep, kind = value.rpartition(":")
    column, kind = column.strip(), kind.strip()
    if not sep or not column or not kind:
        raise DedupInputError(
            _("A field is given as COLUMN:KIND, not “%(value)s”.") % {"value": value}
        )
    if kind not in KINDS:
        raise DedupInputError(
            _("Unknown field kind “%(kind)s”. Use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)}
        )
    return column, kind


def _check_column(table: Table, column: str) -> None:
    if column not in table.header:
        raise DedupInputError(
            _("%(path)s has no column “%(column)s”. Its columns are: %(columns)s.")
            % {"path": table.path, "column": column, "columns": ", ".join(table.header)}
        )


def dedup_files(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    entity: str = "contact",
    fields: Sequence[str] = (),
    id_column: str | None = None,
    region: str = "JP",
    thresholds: Thresholds | None = None,
    band: Band = Band.MERGE,
    matches_output: str | os.PathLike | None = None,
) -> Summary:
    """Cluster the records of one file, or link the records of two files.

    Writes ``record_id,cluster_id`` for every input record to ``output``
    (and, with ``matches_output``, every merge/review pair with its
    explanation). Nothing is written when the input is bad.
    """
    if entity not in ENTITIES:
        raise DedupInputError(
            _("Unknown entity “%(entity)s”. Use one of: %(entities)s.")
            % {"entity": entity, "entities": ", ".join(ENTITIES)}
        )
    if not 1 <= len(inputs) <= 2:
        raise DedupInputError(_("Give one input file to deduplicate or two to link."))
    tables = [read_table(path) for path in inputs]
    specs = [parse_field(value) for value in fields]
    if not specs:
        specs = guess_fields(tables[0].header, entity=entity)
        if not specs:
            raise DedupInputError(
                _("No column says what it holds: name them with --field COLUMN:KIND.")
            )
    if id_column is None:
        id_column = guess_id_column(tables[0].header)
    for table in tables:
        for column, _kind in specs:
            _check_column(table, column)
        if id_column is not None:
            _check_column(table, id_column)

    records: list[dict[str, str]] = []
    sources: list[int] = []
    first_row: dict[str, tuple[Path, int]] = {}
    for number, table in enumerate(tables):
        columns = {column: table.header.index(column) for column, _kind in specs}
        id_index = table.header.index(id_column) if id_column is not None else None
        for line, row in enumerate(table.rows, start=2):
            if id_index is not None:
                record_id = row[id_index].strip()
            else:
                record_id = str(line - 1) if len(tables) == 1 else f"{number + 1}:{line - 1}"
            if not record_id:
                raise DedupInputError(
                    _("%(path)s, row %(row)d has no record id.") % {"path": table.path, "row": line}
                )
            if record_id in first_row:
                raise DedupInputError(
                    _(
                        "The record id “%(id)s” appears twice (%(path)s, rows %(first)d "
                        "and %(row)d)."
                    )
                    % {
                        "id": record_id,
                        "path": table.path,
                        "first": first_row[record_id][1],
                        "row": line,
                    }
                )
            first_row[record_id] = (table.path, line)
            record = {column: row[index] for column, index in columns.items()}
            record["\0id"] = record_id
            records.append(record)
            sources.append(number)

    engine = Engine(
        [FieldSpec(column, kind) for column, kind in specs],
        entity=entity,
        region=region,
        thresholds=thresholds or Thresholds(),
    )
    result = engine.run(records, id_key="\0id", sources=sources if len(tables) == 2 else None)
    clusters = cluster_result(result, band=band)

    _write_atomically(
        output,
        ["record_id", "cluster_id"],
        ([record_id, cluster_id] for record_id, cluster_id in clusters.items()),
    )
    if matches_output is not None:
        _write_atomically(
            matches_output,
            ["record_a", "record_b", "score", "band", "explanation"],
            (
                [m.a, m.b, f"{m.score:.6f}", str(m.band), m.explanation]
                for m in result.matches
                if m.band != Band.IGNORE
            ),
        )
    sizes: dict[str, int] = {}
    for cluster_id in clusters.values():
        sizes[cluster_id] = sizes.get(cluster_id, 0) + 1
    return Summary(
        records=len(records),
        clusters=len(sizes),
        merged_records=sum(size for size in sizes.values() if size > 1),
        candidate_pairs=result.candidate_pairs,
        review_pairs=sum(1 for m in result.matches if m.band == Band.REVIEW),
        fields=engine.fields,  # type: ignore[arg-type]
        result=result,
    )


def _write_atomically(path: str | os.PathLike, header: list[str], rows) -> None:
    """Write a UTF-8 CSV next to its destination, then move it into place."""
    path = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=".tmp")
    except OSError as exc:
        raise DedupInputError(
            _("Cannot write %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
