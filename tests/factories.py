"""factory_boy factories; they build through the models, tests use services."""

import factory
from django.utils import timezone

from kizuna.activities.models import Activity
from kizuna.core.text import company_key, search_grams
from kizuna.customers.models import Company, Contact, ContactEmail, Lead
from kizuna.iam.models import Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"営業{n}課")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"role-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"担当者{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.jp")
    team = factory.SubFactory(TeamFactory)
    language = "en"
    password = factory.django.Password("pw-kizuna-123")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    name_reading = factory.Sequence(lambda n: f"てすと{n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team)
    prefecture = "東京都"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.name_key = company_key(obj.name)
        obj.refresh_search_index()
        obj.save()
        obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
        obj.save(update_fields=["path"])
        return obj


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    family_name = "佐藤"
    given_name = factory.Sequence(lambda n: f"太郎{n}")
    family_name_reading = "サトウ"
    given_name_reading = "タロウ"
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team)
    company = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        email = kwargs.pop("email", None)
        obj = model_class(*args, **kwargs)
        obj.refresh_search_index(email)
        obj.save()
        if email:
            ContactEmail.objects.create(contact=obj, email=email)
        return obj


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    family_name = "金"
    given_name = "민준"
    company_name = "주식회사 한빛"
    channel = Lead.Channel.WEB_FORM
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.refresh_search_index()
        obj.save()
        return obj


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = Activity.Kind.CALL
    subject = factory.Sequence(lambda n: f"電話 {n}")
    occurred_at = factory.LazyFunction(timezone.now)
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda c: c.owner.team)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        participants = kwargs.pop("participants", None)
        obj = model_class(*args, **kwargs)
        if obj.contact is not None and obj.company is None:
            obj.company = obj.contact.company
        obj.search_index = search_grams(obj.subject, obj.body)
        obj.save()
        if participants:
            obj.participants.set(participants)
        return obj
