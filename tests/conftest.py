import pytest

from kizuna.core.models import AccessLevel, AccessPolicy, ObjectType
from tests.factories import RoleFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def _jobs_run_immediately():
    """Background tasks run inline, in memory, when queued (huey's immediate mode)."""
    from kizuna.automation.jobs import huey

    huey.immediate = True
    yield


@pytest.fixture(autouse=True)
def _no_cached_rules():
    """Each test starts without another test's active automation rules."""
    from kizuna.automation import rules

    rules._active.clear()


@pytest.fixture(autouse=True)
def _english_and_fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def team_policy(db):
    """Team-level visibility for every object type (the shipped default)."""
    for object_type in ObjectType.values:
        AccessPolicy.objects.update_or_create(
            object_type=object_type, defaults={"level": AccessLevel.TEAM}
        )


@pytest.fixture
def org(db, team_policy):
    """Two teams, a manager above one rep, and an outsider in the other team."""
    tokyo = TeamFactory(name="東京営業")
    osaka = TeamFactory(name="大阪営業")
    manager_role = RoleFactory(name="manager")
    rep_role = RoleFactory(name="rep", parent=manager_role)
    other_role = RoleFactory(name="other")
    admin = UserFactory(username="admin", team=tokyo, is_org_admin=True)
    manager = UserFactory(username="manager", team=osaka, role=manager_role)
    rep = UserFactory(username="rep", team=tokyo, role=rep_role)
    colleague = UserFactory(username="colleague", team=tokyo, role=other_role)
    outsider = UserFactory(username="outsider", team=osaka, role=other_role)
    return type(
        "Org",
        (),
        dict(
            tokyo=tokyo,
            osaka=osaka,
            admin=admin,
            manager=manager,
            rep=rep,
            colleague=colleague,
            outsider=outsider,
        ),
    )
