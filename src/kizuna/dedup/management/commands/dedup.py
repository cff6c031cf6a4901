import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kizuna.dedup.engine import Band, Thresholds
from kizuna.dedup.files import DedupInputError, dedup_files
from kizuna.dedup.kinds import ENTITIES, KINDS


class Command(BaseCommand):
    help = (
        "Find duplicate records in a CSV file (or link two files) without a database and "
        "write record_id,cluster_id."
    )
    # File in, file out: no database, no migrations, no system checks.
    requires_migrations_checks = False
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--input",
            action="append",
            default=None,
            metavar="CSV",
            help="UTF-8 or Shift_JIS CSV with a header row; twice to link two files.",
        )
        parser.add_argument("--output", default=None, metavar="CSV")
        parser.add_argument(
            "--scan",
            default=None,
            choices=ENTITIES,
            help="Scan the database for duplicates of this entity and queue them for review.",
        )
        parser.add_argument("--entity", default="contact", choices=ENTITIES)
        parser.add_argument("--id-column", default=None, metavar="COLUMN")
        parser.add_argument(
            "--field",
            action="append",
            default=[],
            metavar="COLUMN:KIND",
            help=f"Repeatable. KIND is one of {', '.join(KINDS)}. Guessed from the header "
            "when left out.",
        )
        parser.add_argument("--region", default=settings.KIZUNA_DEFAULT_REGION)
        parser.add_argument("--merge-threshold", type=float, default=Thresholds.merge)
        parser.add_argument("--review-threshold", type=float, default=Thresholds.review)
        parser.add_argument(
            "--include-review",
            action="store_true",
            help="Also join pairs of the review band into clusters.",
        )
        parser.add_argument(
            "--matches", default=None, metavar="CSV", help="Write the scored pairs here."
        )

    def handle(self, *args, **o):
        started = time.perf_counter()
        if o["scan"]:
            from kizuna.dedup.scan import scan_entity

            result = scan_entity(entity=o["scan"])
            self.stderr.write(
                _(
                    "%(records)d records scanned, %(pairs)d pairs found, %(queued)d queued "
                    "for review, %(merged)d merged, in %(seconds).1f s."
                )
                % {
                    "records": result.records,
                    "pairs": result.pairs_found,
                    "queued": result.queued,
                    "merged": result.merged,
                    "seconds": time.perf_counter() - started,
                }
            )
            return
        if not o["input"] or not o["output"]:
            raise CommandError(_("Give --input and --output, or --scan ENTITY."))
        if not 0 <= o["review_threshold"] <= o["merge_threshold"] <= 1:
            raise CommandError(
                _("Thresholds are probabilities with review ≤ merge, between 0 and 1.")
            )
        try:
            summary = dedup_files(
                o["input"],
                o["output"],
                entity=o["entity"],
                fields=o["field"],
                id_column=o["id_column"],
                region=o["region"].upper(),
                thresholds=Thresholds(merge=o["merge_threshold"], review=o["review_threshold"]),
                band=Band.REVIEW if o["include_review"] else Band.MERGE,
                matches_output=o["matches"],
            )
        except DedupInputError as exc:
            raise CommandError(str(exc)) from None
        if o["verbosity"] >= 1:
            fields = ", ".join(f"{f.column}:{f.kind}" for f in summary.fields)
            self.stderr.write(
                _(
                    "%(records)d records, %(pairs)d candidate pairs, %(clusters)d clusters "
                    "(%(merged)d records in clusters of two or more), %(review)d pairs to "
                    "review, in %(seconds).2f s. Fields: %(fields)s"
                )
                % {
                    "records": summary.records,
                    "pairs": summary.candidate_pairs,
                    "clusters": summary.clusters,
                    "merged": summary.merged_records,
                    "review": summary.review_pairs,
                    "seconds": time.perf_counter() - started,
                    "fields": fields,
                }
            )
