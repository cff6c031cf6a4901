"""The API of companies, contacts and leads."""

import datetime

from django.http import HttpResponse
from ninja import Query, Router, Schema

from kizuna.api.concurrency import IF_MATCH, delete_checked, expected_version
from kizuna.api.idempotency import IDEMPOTENCY_KEY, idempotent
from kizuna.api.pagination import PageQuery, page_schema, paginate
from kizuna.api.records import custom_filters, dump, respond, with_etag, write_args
from kizuna.api.schemas import RecordIn, RecordOut, VersionIn
from kizuna.customers import selectors, services
from kizuna.customers.models import Company, Contact, Lead
from kizuna.dedup.services import duplicates_check_on_commit

router = Router(tags=["customers"])


class CommonFilters(Schema):
    q: str | None = None
    owner: int | None = None
    team: int | None = None
    tag: str | None = None
    next_action_due_before: datetime.date | None = None


# Companies ---------------------------------------------------------------


class CompanyOut(RecordOut):
    kind: str
    parent: int | None
    name: str
    name_reading: str
    corporate_number: str
    industry: str
    size: str
    postal_code: str
    prefecture: str
    city: str
    street: str
    building: str
    website: str
    domain: str
    phone: str
    next_action: str
    next_action_due: datetime.date | None

    @staticmethod
    def resolve_parent(obj) -> int | None:
        return obj.parent_id


class CompanyFields(RecordIn):
    kind: str | None = None
    parent: int | None = None
    name: str | None = None
    name_reading: str | None = None
    corporate_number: str | None = None
    industry: str | None = None
    size: str | None = None
    postal_code: str | None = None
    prefecture: str | None = None
    city: str | None = None
    street: str | None = None
    building: str | None = None
    website: str | None = None
    domain: str | None = None
    phone: str | None = None
    next_action: str | None = None
    next_action_due: datetime.date | None = None


class CompanyIn(CompanyFields):
    name: str


class CompanyPatch(CompanyFields, VersionIn):
    pass


class CompanyFilters(CommonFilters):
    prefecture: str | None = None
    industry: str | None = None
    size: str | None = None
    kind: str | None = None
    parent: int | None = None
    top_level: bool | None = None


def _company_args(request, data: dict) -> dict:
    return write_args(Company, data, {"parent": selectors.company_list(user=request.auth)})


@router.get("/companies", response=page_schema(CompanyOut))
def list_companies(request, filters: Query[CompanyFilters], page: Query[PageQuery]):
    f = filters.dict(exclude_none=True) | {"custom": custom_filters(request, "company")}
    qs = selectors.company_list(user=request.auth, filters=f).prefetch_related("tags")
    return paginate(qs, page)


@router.post("/companies", response={201: CompanyOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_company(request, payload: CompanyIn):
    def create():
        args = _company_args(request, payload.dict(exclude_unset=True))
        company = services.company_create(actor=request.auth, **args)
        duplicates_check_on_commit(entity="company", record_id=company.pk, source="api")
        return 201, dump(CompanyOut, company)

    return idempotent(request, create, respond)


@router.get("/companies/{int:company_id}", response=CompanyOut)
def get_company(request, company_id: int, response: HttpResponse):
    return with_etag(response, selectors.company_detail(user=request.auth, pk=company_id))


@router.patch("/companies/{int:company_id}", response=CompanyOut, openapi_extra=IF_MATCH)
def update_company(request, company_id: int, payload: CompanyPatch, response: HttpResponse):
    company = selectors.company_detail(user=request.auth, pk=company_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    company = services.company_update(
        actor=request.auth, company=company, version=version, **_company_args(request, data)
    )
    return with_etag(response, company)


@router.delete("/companies/{int:company_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_company(request, company_id: int):
    company = selectors.company_detail(user=request.auth, pk=company_id)
    delete_checked(
        actor=request.auth,
        obj=company,
        version=expected_version(request),
        delete=services.company_delete,
    )
    return HttpResponse(status=204)


# Contacts ----------------------------------------------------------------


class ContactOut(RecordOut):
    family_name: str
    given_name: str
    family_name_reading: str
    given_name_reading: str
    title: str
    department: str
    company: int | None
    notes: str
    emails: list[str]
    phones: list[str]
    next_action: str
    next_action_due: datetime.date | None

    @staticmethod
    def resolve_company(obj) -> int | None:
        return obj.company_id

    @staticmethod
    def resolve_emails(obj) -> list[str]:
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_phones(obj) -> list[str]:
        return [p.number for p in obj.phones.all()]


class ContactFields(RecordIn):
    family_name: str | None = None
    given_name: str | None = None
    family_name_reading: str | None = None
    given_name_reading: str | None = None
    title: str | None = None
    department: str | None = None
    company: int | None = None
    notes: str | None = None
    emails: list[str] | None = None
    phones: list[str] | None = None
    next_action: str | None = None
    next_action_due: datetime.date | None = None


class ContactIn(ContactFields):
    family_name: str


class ContactPatch(ContactFields, VersionIn):
    pass


class ContactFilters(CommonFilters):
    company: int | None = None
    email: str | None = None


def _contact_args(request, data: dict) -> dict:
    return write_args(Contact, data, {"company": selectors.company_list(user=request.auth)})


@router.get("/contacts", response=page_schema(ContactOut))
def list_contacts(request, filters: Query[ContactFilters], page: Query[PageQuery]):
    f = filters.dict(exclude_none=True) | {"custom": custom_filters(request, "contact")}
    qs = selectors.contact_list(user=request.auth, filters=f).prefetch_related("tags")
    return paginate(qs, page)


@router.post("/contacts", response={201: ContactOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_contact(request, payload: ContactIn):
    def create():
        args = _contact_args(request, payload.dict(exclude_unset=True))
        contact = services.contact_create(actor=request.auth, **args)
        duplicates_check_on_commit(entity="contact", record_id=contact.pk, source="api")
        return 201, dump(ContactOut, selectors.contact_detail(user=request.auth, pk=contact.pk))

    return idempotent(request, create, respond)


@router.get("/contacts/{int:contact_id}", response=ContactOut)
def get_contact(request, contact_id: int, response: HttpResponse):
    return with_etag(response, selectors.contact_detail(user=request.auth, pk=contact_id))


@router.patch("/contacts/{int:contact_id}", response=ContactOut, openapi_extra=IF_MATCH)
def update_contact(request, contact_id: int, payload: ContactPatch, response: HttpResponse):
    contact = selectors.contact_detail(user=request.auth, pk=contact_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    services.contact_update(
        actor=request.auth, contact=contact, version=version, **_contact_args(request, data)
    )
    return with_etag(response, selectors.contact_detail(user=request.auth, pk=contact_id))


@router.delete("/contacts/{int:contact_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_contact(request, contact_id: int):
    contact = selectors.contact_detail(user=request.auth, pk=contact_id)
    delete_checked(
        actor=request.auth,
        obj=contact,
        version=expected_version(request),
        delete=services.contact_delete,
    )
    return HttpResponse(status=204)


# Leads -------------------------------------------------------------------


class LeadOut(RecordOut):
    family_name: str
    given_name: str
    family_name_reading: str
    given_name_reading: str
    company_name: str
    corporate_number: str
    title: str
    department: str
    email: str
    phone: str
    prefecture: str
    channel: str
    campaign: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    interest: str
    status: str
    next_action: str
    next_action_due: datetime.date | None
    converted_at: datetime.datetime | None
    converted_company: int | None
    converted_contact: int | None

    @staticmethod
    def resolve_converted_company(obj) -> int | None:
        return obj.converted_company_id

    @staticmethod
    def resolve_converted_contact(obj) -> int | None:
        return obj.converted_contact_id


class LeadFields(RecordIn):
    family_name: str | None = None
    given_name: str | None = None
    family_name_reading: str | None = None
    given_name_reading: str | None = None
    company_name: str | None = None
    corporate_number: str | None = None
    title: str | None = None
    department: str | None = None
    email: str | None = None
    phone: str | None = None
    prefecture: str | None = None
    channel: str | None = None
    campaign: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    interest: str | None = None
    status: str | None = None
    next_action: str | None = None
    next_action_due: datetime.date | None = None


class LeadIn(LeadFields):
    family_name: str
    channel: str


class LeadPatch(LeadFields, VersionIn):
    pass


class LeadFilters(CommonFilters):
    status: str | None = None
    channel: str | None = None
    prefecture: str | None = None
    campaign: str | None = None


class LeadConvertIn(Schema):
    # An existing company to attach the contact to, instead of the match.
    company: int | None = None


class LeadConversionOut(Schema):
    lead: int
    company: int | None
    company_created: bool
    contact: int
    contact_created: bool
    matched_by: str


@router.get("/leads", response=page_schema(LeadOut))
def list_leads(request, filters: Query[LeadFilters], page: Query[PageQuery]):
    f = filters.dict(exclude_none=True) | {"custom": custom_filters(request, "lead")}
    qs = selectors.lead_list(user=request.auth, filters=f).prefetch_related("tags")
    return paginate(qs, page)


@router.post("/leads", response={201: LeadOut}, openapi_extra=IDEMPOTENCY_KEY)
def create_lead(request, payload: LeadIn):
    def create():
        args = write_args(Lead, payload.dict(exclude_unset=True))
        lead = services.lead_create(actor=request.auth, **args)
        # A website's form usually posts its leads through the API.
        source = "web_form" if lead.channel == Lead.Channel.WEB_FORM else "api"
        duplicates_check_on_commit(entity="lead", record_id=lead.pk, source=source)
        return 201, dump(LeadOut, lead)

    return idempotent(request, create, respond)


@router.get("/leads/{int:lead_id}", response=LeadOut)
def get_lead(request, lead_id: int, response: HttpResponse):
    return with_etag(response, selectors.lead_detail(user=request.auth, pk=lead_id))


@router.patch("/leads/{int:lead_id}", response=LeadOut, openapi_extra=IF_MATCH)
def update_lead(request, lead_id: int, payload: LeadPatch, response: HttpResponse):
    lead = selectors.lead_detail(user=request.auth, pk=lead_id)
    data = payload.dict(exclude_unset=True)
    version = expected_version(request, data.pop("version", None))
    lead = services.lead_update(
        actor=request.auth, lead=lead, version=version, **write_args(Lead, data)
    )
    return with_etag(response, lead)


@router.delete("/leads/{int:lead_id}", response={204: None}, openapi_extra=IF_MATCH)
def delete_lead(request, lead_id: int):
    lead = selectors.lead_detail(user=request.auth, pk=lead_id)
    delete_checked(
        actor=request.auth, obj=lead, version=expected_version(request), delete=services.lead_delete
    )
    return HttpResponse(status=204)


@router.post(
    "/leads/{int:lead_id}/convert", response={200: LeadConversionOut}, openapi_extra=IDEMPOTENCY_KEY
)
def convert_lead(request, lead_id: int, payload: LeadConvertIn | None = None):
    lead = selectors.lead_detail(user=request.auth, pk=lead_id)
    company = (payload.company if payload else None) or None

    def convert():
        args = write_args(
            Lead, {"company": company}, {"company": selectors.company_list(user=request.auth)}
        )
        result = services.lead_convert(actor=request.auth, lead=lead, company=args["company"])
        return 200, {
            "lead": result.lead.pk,
            "company": result.company.pk if result.company else None,
            "company_created": result.company_created,
            "contact": result.contact.pk,
            "contact_created": result.contact_created,
            "matched_by": result.matched_by,
        }

    return idempotent(request, convert, respond)
