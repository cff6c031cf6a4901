import pytest

from kizuna.activities.selectors import company_timeline
from kizuna.activities.services import activity_create
from kizuna.core import access
from kizuna.customers.selectors import company_list, global_search
from kizuna.customers.services import company_create, contact_create


@pytest.mark.django_db
def test_company_search_timeline_and_access(org):
    parent = company_create(actor=org.rep, name="株式会社トヨタ商事", name_reading="とよたしょうじ")
    site = company_create(actor=org.rep, name="大阪支店", parent=parent, kind="site")
    taro = contact_create(
        actor=org.rep,
        family_name="佐藤",
        given_name="太郎",
        company=site,
        emails=["taro@toyota-shoji.example"],
        phones=["03-1234-5678"],
    )
    call = activity_create(actor=org.rep, kind="call", subject="初回ヒアリング", contact=taro)
    assert call.company == site
    assert list(company_list(user=org.rep, filters={"q": "トヨ"})) == [parent]
    assert list(company_list(user=org.rep, filters={"q": "ﾄﾖﾀ"})) == [parent]
    assert list(company_timeline(user=org.rep, company=parent)) == [call]
    # The manager sees the rep's records through the role hierarchy.
    assert access.can_view(org.manager, parent)
    # The outsider sees nothing.
    assert list(company_list(user=org.outsider, filters={"q": "トヨ"})) == []
    assert global_search(user=org.outsider, q="佐藤")["contacts"] == []
    assert global_search(user=org.colleague, q="佐藤")["contacts"] == [taro]
    assert taro.phones.get().number == "+81312345678"
