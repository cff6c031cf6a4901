import pytest

from kizuna.core import access
from kizuna.core.models import AccessLevel, AccessPolicy
from kizuna.core.services import share_create
from kizuna.customers.models import Company
from tests.factories import CompanyFactory


def visible_names(user):
    return set(access.visible(Company.objects.all(), user).values_list("name", flat=True))


@pytest.mark.django_db
def test_team_level(org):
    CompanyFactory(name="東京の会社", owner=org.rep)
    CompanyFactory(name="大阪の会社", owner=org.outsider)
    assert visible_names(org.rep) == {"東京の会社"}
    assert visible_names(org.colleague) == {"東京の会社"}  # same team
    assert visible_names(org.outsider) == {"大阪の会社"}
    assert visible_names(org.admin) == {"東京の会社", "大阪の会社"}


@pytest.mark.django_db
def test_manager_sees_what_their_people_see(org):
    CompanyFactory(name="レップの会社", owner=org.rep, team=None)
    assert "レップの会社" in visible_names(org.manager)
    assert "レップの会社" not in visible_names(org.outsider)


@pytest.mark.django_db
def test_private_level_hides_from_team_but_not_from_manager(org):
    AccessPolicy.objects.filter(object_type="company").update(level=AccessLevel.PRIVATE)
    company = CompanyFactory(name="秘密", owner=org.rep)
    assert visible_names(org.colleague) == set()
    assert access.can_view(org.manager, company)
    assert access.can_edit(org.rep, company)


@pytest.mark.django_db
def test_read_all_and_edit_all(org):
    company = CompanyFactory(owner=org.rep)
    AccessPolicy.objects.filter(object_type="company").update(level=AccessLevel.READ_ALL)
    assert access.can_view(org.outsider, company)
    assert not access.can_edit(org.outsider, company)
    AccessPolicy.objects.filter(object_type="company").update(level=AccessLevel.EDIT_ALL)
    org.outsider._kizuna_viewer = None
    assert access.can_edit(org.outsider, company)


@pytest.mark.django_db
def test_share_with_user_and_team(org):
    company = CompanyFactory(owner=org.rep)
    share_create(actor=org.rep, obj=company, user=org.outsider)
    assert access.can_view(org.outsider, company)
    assert not access.can_edit(org.outsider, company)
    share_create(actor=org.rep, obj=company, team=org.osaka, can_edit=True)
    assert access.can_edit(org.outsider, company)


@pytest.mark.django_db
def test_inactive_and_anonymous_see_nothing(org):
    from django.contrib.auth.models import AnonymousUser

    CompanyFactory(owner=org.rep)
    org.rep.is_active = False
    assert visible_names(org.rep) == set()
    assert visible_names(AnonymousUser()) == set()
