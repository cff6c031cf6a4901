"""Incoming mail from real message bytes: charsets, matching, threads, doors."""

import base64

import pytest

from kizuna.activities.models import Activity
from kizuna.customers.models import Lead
from kizuna.mail.incoming import imap_fetch, mail_receive, mail_settings
from kizuna.mail.models import EmailMessage, IncomingMail, MailSettings
from kizuna.mail.parsing import parse
from tests.factories import CompanyFactory, ContactFactory
from tests.mail.imapd import IMAPServer, Mailbox

# ISO-2022-JP as Outlook writes it: NEC special characters (①, ㈱) that
# Python's iso2022_jp codecs refuse, and half-width kana (ESC ( I).
NEC_1 = b"\x1b$B-!\x1b(B"  # ①
NEC_KABU = b"\x1b$B-j\x1b(B"  # ㈱
ISO2022_SUBJECT = (
    "=?ISO-2022-JP?B?" + base64.b64encode("お見積りの件".encode("iso2022_jp")).decode() + "?="
)
ISO2022_BODY = (
    "佐藤様\r\n\r\nお世話になっております。\r\n".encode("iso2022_jp")
    + NEC_1
    + " 納期は来月です。\r\n".encode("iso2022_jp")
    + NEC_KABU
    + "トヨタ商事 ｶﾅ\r\n".encode("iso2022_jp_ext")
)
ISO2022_MAIL = (
    b"From: =?ISO-2022-JP?B?"
    + base64.b64encode("田中 一郎".encode("iso2022_jp"))
    + b"?= <ichiro@tanaka-kogyo.example>\r\n"
    b"To: sales@kizuna.example\r\n"
    b"Subject: " + ISO2022_SUBJECT.encode() + b"\r\n"
    b"Message-ID: <iso2022-1@tanaka-kogyo.example>\r\n"
    b"Date: Tue, 3 Mar 2026 10:15:00 +0900\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="ISO-2022-JP"\r\n'
    b"Content-Transfer-Encoding: 7bit\r\n\r\n" + ISO2022_BODY
)

# Shift_JIS labelled as ISO-8859-1, with raw Shift_JIS bytes in the Subject
# (no RFC 2047 encoding), from an address nobody knows.
SJIS_MAIL = (
    b"From: suzuki@hokuriku-seiki.example\r\n"
    b"To: sales@kizuna.example\r\n"
    b"Subject: " + "資料請求".encode("cp932") + b"\r\n"
    b"Message-ID: <sjis-1@hokuriku-seiki.example>\r\n"
    b"Date: Tue, 3 Mar 2026 11:00:00 +0900\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    + "製品カタログを送ってください。①髙橋".encode("cp932")
    + b"\r\n"
)


def mail(sender: str, message_id: str, *, subject="Re: hello", body="body", headers=b"") -> bytes:
    return (
        f"From: {sender}\r\nTo: sales@kizuna.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Wed, 4 Mar 2026 09:00:00 +0900\r\n".encode()
        + headers
        + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body.encode()
        + b"\r\n"
    )


def test_iso_2022_jp_with_nec_characters_and_half_width_kana_reads_as_japanese():
    parsed = parse(ISO2022_MAIL)
    assert parsed.subject == "お見積りの件"
    assert parsed.from_name == "田中 一郎"
    assert parsed.from_address == "ichiro@tanaka-kogyo.example"
    assert "お世話になっております。" in parsed.body
    assert "① 納期は来月です。" in parsed.body
    assert "㈱トヨタ商事 ｶﾅ" in parsed.body


def test_mislabelled_shift_jis_and_raw_8bit_subject_are_repaired():
    parsed = parse(SJIS_MAIL)
    assert parsed.subject == "資料請求"
    assert parsed.body == "製品カタログを送ってください。①髙橋"
    assert parsed.warnings  # the repair is recorded


def test_korean_euc_kr_mail():
    raw = (
        b"From: kim@hanbit.example\r\nSubject: =?EUC-KR?B?"
        + base64.b64encode("견적 요청".encode("euc_kr"))
        + b"?=\r\nMessage-ID: <kr-1@hanbit.example>\r\n"
        b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n\r\n"
        + "안녕하세요. 견적서를 보내 주세요.".encode("cp949")
    )
    parsed = parse(raw)
    assert parsed.subject == "견적 요청"
    assert parsed.body == "안녕하세요. 견적서를 보내 주세요."


@pytest.mark.django_db
def test_mail_from_a_contact_lands_on_their_timeline_once(org):
    company = CompanyFactory(owner=org.rep)
    contact = ContactFactory(owner=org.rep, company=company, email="Ichiro@Tanaka-Kogyo.example")
    log = mail_receive(raw=ISO2022_MAIL, source="imap")
    assert log.outcome == IncomingMail.Outcome.ATTACHED
    activity = Activity.objects.get(kind=Activity.Kind.EMAIL)
    assert activity.contact == contact and activity.company == company
    assert activity.owner == org.rep
    assert activity.subject == "お見積りの件" and "㈱トヨタ商事" in activity.body
    assert activity.email_message.direction == EmailMessage.Direction.IN
    assert activity.email_message.message_id == "<iso2022-1@tanaka-kogyo.example>"

    again = mail_receive(raw=ISO2022_MAIL, source="forward")
    assert again.outcome == IncomingMail.Outcome.DUPLICATE
    assert Activity.objects.filter(kind=Activity.Kind.EMAIL).count() == 1


@pytest.mark.django_db
def test_unknown_sender_becomes_a_lead_with_the_email_channel(org):
    log = mail_receive(raw=SJIS_MAIL, source="imap")
    assert log.outcome == IncomingMail.Outcome.LEAD
    lead = Lead.objects.get(email="suzuki@hokuriku-seiki.example")
    assert lead.channel == Lead.Channel.EMAIL
    assert lead.owner == org.admin
    assert lead.activities.get().body == "製品カタログを送ってください。①髙橋"


@pytest.mark.django_db
def test_a_company_is_matched_by_domain_but_never_a_free_mail_one(org):
    company = CompanyFactory(owner=org.rep, domain="hokuriku-seiki.example")
    CompanyFactory(owner=org.rep, domain="gmail.com")
    assert mail_receive(raw=SJIS_MAIL, source="imap").outcome == IncomingMail.Outcome.ATTACHED
    assert Activity.objects.get(kind=Activity.Kind.EMAIL).company == company
    log = mail_receive(raw=mail("someone@gmail.com", "<g-1@gmail.com>"), source="imap")
    assert log.outcome == IncomingMail.Outcome.LEAD


@pytest.mark.django_db
def test_free_mail_and_spam_rules(org):
    conf = mail_settings()
    conf.free_mail = MailSettings.FreeMail.IGNORE
    conf.blocked_senders = "@spam.example"
    conf.save()
    log = mail_receive(raw=mail("someone@gmail.com", "<g-2@gmail.com>"), source="imap")
    assert (log.outcome, log.reason) == ("rejected", IncomingMail.Reason.FREE_MAIL)
    assert bytes(log.raw).startswith(b"From: someone@gmail.com")
    log = mail_receive(raw=mail("x@spam.example", "<s-1@spam.example>"), source="imap")
    assert log.reason == IncomingMail.Reason.BLOCKED
    flagged = mail("y@corp.example", "<s-2@corp.example>", headers=b"X-Spam-Flag: YES\r\n")
    assert mail_receive(raw=flagged, source="imap").reason == IncomingMail.Reason.SPAM
    conf.create_leads = False
    conf.save()
    log = mail_receive(raw=mail("z@corp.example", "<u-1@corp.example>"), source="imap")
    assert log.reason == IncomingMail.Reason.UNKNOWN_SENDER
    assert not Lead.objects.exists() and not Activity.objects.exists()


@pytest.mark.django_db
def test_replies_join_the_thread_of_the_mail_they_answer(
    org, smtp_server, django_capture_on_commit_callbacks
):
    from kizuna.mail.services import email_send

    contact = ContactFactory(owner=org.rep, email="hanako@toyota.example")
    with django_capture_on_commit_callbacks(execute=True):
        sent = email_send(
            actor=org.rep, record=contact, subject="ご提案", body="ご確認ください。"
        ).email_message
    # The answer comes from her assistant's address, which no record has.
    reply = mail(
        "assistant@toyota.example",
        "<r-1@toyota.example>",
        headers=f"In-Reply-To: {sent.message_id}\r\nReferences: {sent.message_id}\r\n".encode(),
    )
    assert mail_receive(raw=reply, source="imap").outcome == IncomingMail.Outcome.ATTACHED
    answer = EmailMessage.objects.get(message_id="<r-1@toyota.example>")
    assert answer.activity.contact == contact
    assert answer.thread_id == sent.thread_id == sent.message_id
    second = mail(
        "hanako@toyota.example",
        "<r-2@toyota.example>",
        headers=(
            f"In-Reply-To: <r-1@toyota.example>\r\n"
            f"References: {sent.message_id} <r-1@toyota.example>\r\n"
        ).encode(),
    )
    mail_receive(raw=second, source="imap")
    assert EmailMessage.objects.get(message_id="<r-2@toyota.example>").thread_id == sent.thread_id


@pytest.mark.django_db
def test_the_forwarding_address_takes_raw_mail_with_its_secret(client, org, settings):
    settings.KIZUNA_MAIL_INBOUND_TOKEN = "s3cret-token"
    ContactFactory(owner=org.rep, email="ichiro@tanaka-kogyo.example")
    bad = client.post("/mail/inbound/wrong/", ISO2022_MAIL, content_type="message/rfc822")
    assert bad.status_code == 404
    ok = client.post("/mail/inbound/s3cret-token/", ISO2022_MAIL, content_type="message/rfc822")
    assert ok.status_code == 202 and ok.json()["outcome"] == "attached"
    settings.KIZUNA_MAIL_INBOUND_TOKEN = ""
    assert client.post("/mail/inbound//", b"x", content_type="message/rfc822").status_code == 404


@pytest.mark.django_db
def test_imap_mailbox_is_read_and_marked_seen(org, settings):
    ContactFactory(owner=org.rep, email="ichiro@tanaka-kogyo.example")
    box = Mailbox("team@kizuna.example", "pw 1")
    box.add(ISO2022_MAIL)
    box.add(SJIS_MAIL)
    with IMAPServer(box) as server:
        settings.KIZUNA_IMAP_HOST = "127.0.0.1"
        settings.KIZUNA_IMAP_PORT = server.port
        settings.KIZUNA_IMAP_SSL = False
        settings.KIZUNA_IMAP_USER = box.user
        settings.KIZUNA_IMAP_PASSWORD = box.password
        settings.KIZUNA_IMAP_TIMEOUT = 5
        assert imap_fetch() == 2
        assert box.seen == {1, 2}
        assert imap_fetch() == 0
    outcomes = sorted(IncomingMail.objects.values_list("outcome", flat=True))
    assert outcomes == ["attached", "lead"]


@pytest.mark.django_db
def test_admin_sees_the_log_and_changes_the_rules(client, org, django_assert_max_num_queries):
    for i in range(5):
        mail_receive(raw=mail(f"s{i}@spam.example", f"<x{i}@spam.example>"), source="imap")
    mail_receive(raw=SJIS_MAIL, source="forward")
    client.force_login(org.admin)
    with django_assert_max_num_queries(20):
        page = client.get("/settings/mail/incoming/")
    body = page.content.decode()
    assert "資料請求" in body and "s4@spam.example" in body
    response = client.post(
        "/settings/mail/incoming/",
        {
            "free_mail": "ignore",
            "free_mail_domains": "gmail.com",
            "blocked_senders": "@spam.example",
        },
    )
    assert response.status_code == 302
    conf = mail_settings()
    assert not conf.create_leads and conf.is_blocked("a@spam.example")
    client.force_login(org.rep)
    assert client.get("/settings/mail/incoming/").status_code == 403
