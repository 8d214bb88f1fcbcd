"""Email nudges over SMTP: one ``EmailMessage`` with a plain-text and an escaped HTML part.

The Message-ID is derived from the decision id, so a re-send after a crash carries the same id and mail systems
that de-duplicate on it (and every thread view) show one message. SMTP cannot be read back, so ``find_sent``
always answers None: the window between the server accepting DATA and the outbox recording it is at-least-once.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from connector.config.actions import EmailConfig
from connector.errors import AuthError, InvalidRecordError, LeadrelayError, RequestError, ServerError, TransportError
from connector.notify import Notification
from connector.outbox.task_body import clean

HEADER_LIMIT = 200


def message_id(decision_id: str, domain: str = "leadrelay.invalid") -> str:
    """The Message-ID every send of this decision's email carries."""
    digest = hashlib.sha256(decision_id.encode("utf-8")).hexdigest()[:32]
    return f"<decision.{digest}@{domain}>"


def build_message(note: Notification, config: EmailConfig) -> EmailMessage:
    """The email for ``note``; raises InvalidRecordError when the rep's address cannot be used."""
    if not note.recipient_email:
        raise InvalidRecordError("the rep has no email address", reason="no_email")
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = _address(note.recipient_name, note.recipient_email)
    if config.cc:
        message["Cc"] = ", ".join(config.cc)
    message["Subject"] = clean(note.title, HEADER_LIMIT)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(note.decision_id, _domain_of(config.sender))
    message["X-LeadRelay-Decision"] = clean(note.decision_id, HEADER_LIMIT)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    message.set_content(note.plain + "\n")
    message.add_alternative(_html_document(note), subtype="html")
    return message


def _address(name: str, email: str) -> Address:
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c in email for c in ' <>,;"\\'):
        raise InvalidRecordError(f"unusable email address for the rep: {email[:80]!r}", reason="bad_email")
    try:
        return Address(display_name=clean(name, 120), username=local, domain=domain)
    except (ValueError, IndexError) as error:
        raise InvalidRecordError("unusable email address for the rep", reason="bad_email") from error


def _domain_of(sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip(" >")
    return domain if domain and all(c.isalnum() or c in ".-" for c in domain) else "leadrelay.invalid"


def _html_document(note: Notification) -> str:
    from html import escape

    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<h2>{escape(note.title)}</h2>{note.html}</body></html>"
    )


class EmailNotifier:
    """Sends notifications by SMTP (``channel = "email"`` for the outbox)."""

    channel = "email"

    def __init__(self, config: EmailConfig) -> None:
        self.config = config

    def send(self, note: Notification) -> str:
        """Deliver the email; returns its Message-ID."""
        message = build_message(note, self.config)
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except smtplib.SMTPException as error:
            raise map_smtp_error(error) from error
        except (OSError, TimeoutError) as error:
            raise TransportError(f"smtp unreachable: {error}") from error
        if refused:
            raise InvalidRecordError(f"smtp refused some recipients: {sorted(refused)}", reason="recipient_refused")
        return str(message["Message-ID"])

    def find_sent(self, note: Notification) -> str | None:
        """Always None: SMTP offers no way to ask whether a message was accepted before."""
        return None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if c.ssl:
            smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            if c.starttls:
                smtp.starttls(context=context)
        if c.username and c.password:
            smtp.login(c.username, c.password.get_secret_value())
        return smtp


def map_smtp_error(error: smtplib.SMTPException) -> LeadrelayError:
    """4xx replies and dropped connections retry; 5xx replies and refused credentials do not."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return AuthError(f"smtp refused the credentials ({error.smtp_code})", status=error.smtp_code)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransportError("smtp server disconnected")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return ServerError(f"smtp deferred the recipients: {codes}")
        return InvalidRecordError(f"smtp refused the recipients: {codes}", reason="recipient_refused")
    code = getattr(error, "smtp_code", None)
    if isinstance(code, int) and 400 <= code < 500:
        return ServerError(f"smtp temporary failure {code}", status=code)
    return RequestError(f"smtp failure {code or type(error).__name__}", status=code if isinstance(code, int) else None)
