import smtplib

from django.core.mail import send_mail


def test_the_smtp_sink_receives_what_django_sends(smtp_sink):
    send_mail("Bonjour", "Corps du message", "portal@medicen.example", ["kol@example.org"])

    assert [m["Subject"] for m in smtp_sink.messages] == ["Bonjour"]
    assert smtp_sink.messages[0]["X-Envelope-To"] == "kol@example.org"


def test_the_smtp_sink_can_refuse_messages_transiently(smtp_sink):
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")

    try:
        send_mail("Bonjour", "Corps", "portal@medicen.example", ["kol@example.org"])
    except smtplib.SMTPDataError as error:
        assert error.smtp_code == 451
    else:
        raise AssertionError("the sink accepted a message it should have refused")
    send_mail("Bonjour", "Corps", "portal@medicen.example", ["kol@example.org"])

    assert len(smtp_sink.messages) == 1
