import json

import pytest
from django.test import Client

from kizuna.iam.services import token_create

PREFIX = "/api/v1"


class ApiClient:
    """A Django test client that speaks JSON with a bearer token."""

    def __init__(self, key: str | None = None, **headers: str):
        self.client = Client()
        self.headers = dict(headers)
        if key is not None:
            self.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, body=None, headers=None, **params):
        kwargs = {"headers": {**self.headers, **(headers or {})}}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        url = path if path.startswith("/") else f"{PREFIX}/{path}"
        if method == "get":
            return self.client.get(url, params, headers=kwargs["headers"])
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path, **params):
        return self.request("get", path, **params)

    def post(self, path, body=None, headers=None):
        return self.request("post", path, body if body is not None else {}, headers)

    def patch(self, path, body, headers=None):
        return self.request("patch", path, body, headers)

    def delete(self, path, headers=None):
        return self.request("delete", path, None, headers)


@pytest.fixture
def api_for(db):
    """``api_for(user)``: a client with a fresh token of ``user``."""

    def make(user) -> ApiClient:
        _token, key = token_create(user=user, name="test")
        return ApiClient(key)

    return make


@pytest.fixture
def rep_api(org, api_for):
    return api_for(org.rep)
