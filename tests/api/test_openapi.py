import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from kizuna.api.management.commands.openapi import schema_json

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_schema_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == schema_json(), (
        "docs/openapi.json is out of date: run `kizuna openapi > docs/openapi.json`"
    )


def test_check_fails_on_drift(tmp_path, capsys):
    call_command("openapi", check=str(COMMITTED))
    stale = tmp_path / "openapi.json"
    stale.write_text("{}\n")
    with pytest.raises(CommandError):
        call_command("openapi", check=str(stale))


@pytest.mark.django_db
def test_docs_load_assets_from_our_static_files():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert Client().get(asset).status_code == 200, asset
