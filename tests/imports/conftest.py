import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kizuna.imports import services


def csv_file(text: str, name: str = "trade_show.csv", encoding: str = "cp932"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def do_import(media, django_capture_on_commit_callbacks):
    """Upload, map (proposed), preview and run; returns the batch."""

    def run(
        actor, entity, text, *, encoding="cp932", name="trade_show.csv", start=True, mapping=None
    ):
        batch = services.batch_upload(
            actor=actor, entity=entity, upload=csv_file(text, name, encoding)
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.batch_set_mapping(actor=actor, batch=batch, mapping=mapping or batch.mapping)
        batch.refresh_from_db()
        if start:
            with django_capture_on_commit_callbacks(execute=True):
                services.batch_start(actor=actor, batch=batch)
            batch.refresh_from_db()
        return batch

    return run
