"""The email channel against real SMTP servers on 127.0.0.1 (aiosmtpd): plain, TLS, AUTH."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from floe_alert_email import EmailAlertChannel, EmailChannelConfig, Security
from floe_core.events import (
    ContractViolationEvent,
    ResolvedNotice,
    ViolationSeverity,
    ViolationType,
)
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState, HealthStatus
from floe_core.testing.alerts import sample_violation
from floe_core.testing.receiver import free_port

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
USERNAME = "floe-bot"
PASSWORD = "s3cret-Passw0rd"


def violation(
    severity: ViolationSeverity = ViolationSeverity.ERROR,
    check_type: ViolationType = ViolationType.FRESHNESS,
    *,
    contract: str = "orders",
    message: str | None = None,
    element: str | None = None,
) -> ContractViolationEvent:
    """The sample violation of ``contract``, with its own ``message`` and ``element``."""
    text = message or f"{check_type.value} {severity.value}"
    fields = {"contract_name": contract, "message": text, "element": element}
    return sample_violation(
        severity, check_type, timestamp=T0, check_duration_seconds=0.01, **fields
    )


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with how the session that sent it was secured."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    login: str | None

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses the addresses in ``refuse``."""

    refuse: set[str] = field(default_factory=set)
    refusal: str = "550 5.1.1 no such mailbox here"
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        auth: Any = session.auth_data  # what authenticate() returned: LoginPassword
        login = auth.login.decode() if session.authenticated else None
        self.received.append(
            Received(
                str(envelope.mail_from), list(envelope.rcpt_tos), content, bool(session.ssl), login
            )
        )
        return "250 2.0.0 accepted"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept ``USERNAME`` / ``PASSWORD`` only."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    # handled=False: the server answers the outcome itself (535 when it failed).
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@dataclass(frozen=True)
class Server:
    """A running SMTP server: where it listens and what it received."""

    port: int
    mailbox: Mailbox


StartServer = Callable[..., Server]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Starts real aiosmtpd servers on 127.0.0.1 (keyword arguments go to aiosmtpd's SMTP);
    stops them after the test."""
    controllers: list[Controller] = []

    def start(*, mailbox: Mailbox | None = None, **kwargs: Any) -> Server:
        mailbox = mailbox or Mailbox()
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return Server(port, mailbox)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """Made with the ``openssl`` command for this test session."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the TLS tests need the openssl command (apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key),
            "-out", str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose server accepts connections (the kernel does) but never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def config(port: int, **overrides: Any) -> dict[str, Any]:
    """A channel config for a server on 127.0.0.1:``port``, plain SMTP unless overridden."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "floe@example.com",
        "to_addresses": ["data-team@example.com", "oncall@example.com"],
        "timeout_seconds": 5,
        **overrides,
    }


def send(channel: EmailAlertChannel, *events: ContractViolationEvent) -> bool:
    return asyncio.run(channel.send_alerts(events))


def bodies(message: EmailMessage) -> tuple[str, str]:
    """The plain text and the HTML of a multipart/alternative ``message``."""
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert html is not None
    return plain.get_content(), html.get_content()


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The channel's 'delivery failed' log records."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "floe_alert_email._channel" and "delivery failed" in record.getMessage()
    ]


def assert_nowhere(secret: str, caplog: pytest.LogCaptureFixture, *texts: str) -> None:
    """``secret`` is in no log record (message, arguments, extra fields) and none of ``texts``."""
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(vars(record))
    for text in texts:
        assert secret not in text


# Delivery over plain SMTP


def test_a_contract_run_is_one_email_listing_every_event(smtp_server: StartServer) -> None:
    server = smtp_server()
    events = [
        violation(ViolationSeverity.ERROR, ViolationType.FRESHNESS, message="3h since the update"),
        violation(ViolationSeverity.CRITICAL, ViolationType.SCHEMA_DRIFT, element="amount",
                  message="column amount dropped"),
        violation(ViolationSeverity.WARNING, ViolationType.QUALITY, element="id",
                  message="12 null ids"),
    ]  # fmt: skip
    assert send(EmailAlertChannel(config(server.port)), *events)
    [received] = server.mailbox.received
    message = received.message()
    assert message["Subject"] == "[floe CRITICAL] orders: schema_drift, freshness, quality"
    assert message["From"] == "floe@example.com"
    assert message["To"] == "data-team@example.com, oncall@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert received.mail_from == "floe@example.com"
    assert received.rcpt_tos == ["data-team@example.com", "oncall@example.com"]
    assert not received.tls
    plain, html = bodies(message)
    for text in (plain, html):
        for expected in ("column amount dropped", "3h since the update", "12 null ids",
                         "amount", "age &lt;= 1h" if text is html else "age <= 1h", "age 3h",
                         "finance-dashboard", "2024-06-01 12:00:00 UTC", "sales.orders",
                         "orders 1.2.0"):  # fmt: skip
            assert expected in text
    # Most severe first, in both parts.
    assert plain.index("column amount dropped") < plain.index("3h since the update")
    assert plain.index("3h since the update") < plain.index("12 null ids")
    assert html.index("column amount dropped") < html.index("12 null ids")
    assert html.count("<tr>") == 4  # the header row and one per event


def test_one_event_is_one_email_too(smtp_server: StartServer) -> None:
    server = smtp_server()
    channel = EmailAlertChannel(config(server.port, to_addresses=["a@example.com"]))
    assert asyncio.run(channel.send_alert(violation(ViolationSeverity.WARNING)))
    [received] = server.mailbox.received
    assert received.message()["Subject"] == "[floe WARNING] orders: freshness"
    assert received.rcpt_tos == ["a@example.com"]


def test_no_events_send_nothing(smtp_server: StartServer) -> None:
    server = smtp_server()
    assert send(EmailAlertChannel(config(server.port)))
    assert server.mailbox.received == []


def test_every_value_is_html_escaped(smtp_server: StartServer) -> None:
    server = smtp_server()
    event = violation(
        message="<script>alert('message')</script> & more",
        element='<script>alert("element")</script>',
        contract="<b>orders</b>",
    )
    assert send(EmailAlertChannel(config(server.port)), event)
    [received] = server.mailbox.received
    plain, html = bodies(received.message())
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;message&#x27;)&lt;/script&gt; &amp; more" in html
    assert "&lt;script&gt;alert(&quot;element&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;orders&lt;/b&gt;" in html
    # The plain text part is text: shown as it is.
    assert "<script>alert('message')</script> & more" in plain


def test_a_name_with_line_breaks_cannot_add_headers(smtp_server: StartServer) -> None:
    server = smtp_server()
    event = violation(contract="orders\r\nBcc: attacker@example.com")
    assert send(EmailAlertChannel(config(server.port)), event)
    [received] = server.mailbox.received
    message = received.message()
    assert message["Bcc"] is None
    assert message["Subject"] == "[floe ERROR] orders Bcc: attacker@example.com: freshness"
    assert received.rcpt_tos == ["data-team@example.com", "oncall@example.com"]


def test_a_resolved_notice_is_one_short_email(smtp_server: StartServer) -> None:
    server = smtp_server()
    notice = ResolvedNotice(
        contract_name="orders",
        contract_version="1.2.0",
        violation_type=ViolationType.FRESHNESS,
        elements=["updated_at"],
        alerted_at=T0,
        resolved_at=T0 + timedelta(hours=1),
        message="orders is fresh again <ok>",
    )
    assert asyncio.run(EmailAlertChannel(config(server.port)).send_resolved(notice))
    [received] = server.mailbox.received
    message = received.message()
    assert message["Subject"] == "[floe RESOLVED] orders: freshness"
    plain, html = bodies(message)
    assert "The freshness violation of data contract orders 1.2.0 is resolved." in plain
    assert "orders is fresh again <ok>" in plain
    assert "orders is fresh again &lt;ok&gt;" in html
    assert "Resolved at: 2024-06-01 13:00:00 UTC" in plain
    assert "updated_at" in html


# Refusals and servers that fail


def test_a_refused_recipient_fails_the_delivery(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(mailbox=Mailbox(refuse={"oncall@example.com"}))
    assert not send(EmailAlertChannel(config(server.port)), violation())
    # The server took it for the address it knows; the channel still says it was not delivered.
    assert [r.rcpt_tos for r in server.mailbox.received] == [["data-team@example.com"]]
    [failure] = failures(caplog)
    assert "recipients refused: oncall@example.com" in failure
    assert "550" in failure


def test_every_recipient_refused_is_a_failure(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(mailbox=Mailbox(refuse={"data-team@example.com", "oncall@example.com"}))
    assert not send(EmailAlertChannel(config(server.port)), violation())
    assert server.mailbox.received == []
    [failure] = failures(caplog)
    assert "SMTPRecipientsRefused" in failure


def test_a_refused_connection_is_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    channel = EmailAlertChannel(config(free_port(), timeout_seconds=2))
    started = time.monotonic()
    assert not send(channel, violation())
    assert time.monotonic() - started < 2
    [failure] = failures(caplog)
    assert "Connect" in failure


def test_a_server_that_never_answers_is_given_up_at_the_timeout(
    silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    channel = EmailAlertChannel(config(silent_port, timeout_seconds=0.5))
    started = time.monotonic()
    assert not send(channel, violation())
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5
    assert failures(caplog) == ["alert channel email: delivery failed: no answer within 0.5 s"]


def test_an_invalid_config_fails_the_delivery_without_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = EmailAlertChannel({"host": "127.0.0.1", "password": PASSWORD})
    assert not send(channel, violation())
    [failure] = [
        r.getMessage() for r in caplog.records if r.name == "floe_core.plugins.alert_channel"
    ]
    assert "nothing sent" in failure
    assert "config.from_address: Field required" in failure
    assert_nowhere(PASSWORD, caplog)


# STARTTLS and TLS, with a certificate made for the test


def test_starttls_with_the_server_certificate_trusted(
    smtp_server: StartServer, certificate: Certificate
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    channel = EmailAlertChannel(
        config(server.port, security="starttls", ca_file=str(certificate.cert))
    )
    assert send(channel, violation())
    [received] = server.mailbox.received
    assert received.tls


def test_starttls_refuses_a_certificate_it_does_not_trust(
    smtp_server: StartServer, certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    assert not send(EmailAlertChannel(config(server.port, security="starttls")), violation())
    assert server.mailbox.received == []
    [failure] = failures(caplog)
    assert "CERTIFICATE_VERIFY_FAILED" in failure


def test_starttls_without_verification_when_asked(
    smtp_server: StartServer, certificate: Certificate
) -> None:
    server = smtp_server(tls_context=certificate.server_context(), require_starttls=True)
    channel = EmailAlertChannel(config(server.port, security="starttls", verify_tls=False))
    assert send(channel, violation())
    assert [r.tls for r in server.mailbox.received] == [True]


def test_starttls_is_required_when_configured(
    smtp_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    server = smtp_server()  # no STARTTLS offered: the channel must not fall back to plain text
    assert not send(EmailAlertChannel(config(server.port, security="starttls")), violation())
    assert server.mailbox.received == []
    [failure] = failures(caplog)
    assert "STARTTLS" in failure


def test_implicit_tls(smtp_server: StartServer, certificate: Certificate) -> None:
    server = smtp_server(ssl_context=certificate.server_context())
    channel = EmailAlertChannel(config(server.port, security="tls", ca_file=str(certificate.cert)))
    assert send(channel, violation())
    assert len(server.mailbox.received) == 1


# AUTH


@pytest.fixture
def auth_server(smtp_server: StartServer, certificate: Certificate) -> Server:
    """A server that wants STARTTLS, then AUTH as ``USERNAME`` / ``PASSWORD``."""
    return smtp_server(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )


def auth_config(server: Server, certificate: Certificate, **overrides: Any) -> dict[str, Any]:
    secured = config(server.port, security="starttls", ca_file=str(certificate.cert),
                     username=USERNAME, password=PASSWORD)  # fmt: skip
    return {**secured, **overrides}


def test_auth_with_the_right_password(auth_server: Server, certificate: Certificate) -> None:
    assert send(EmailAlertChannel(auth_config(auth_server, certificate)), violation())
    [received] = auth_server.mailbox.received
    assert (received.tls, received.login) == (True, USERNAME)


def test_auth_failure_never_shows_the_password(
    smtp_server: StartServer, auth_server: Server, certificate: Certificate,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)  # every record of every logger, the SMTP server's too
    wrong = "wr0ng-" + PASSWORD
    channel = EmailAlertChannel(auth_config(auth_server, certificate, password=wrong))
    assert not send(channel, violation())
    health = channel.health_check(timeout=5)
    assert auth_server.mailbox.received == []
    [failure] = failures(caplog)
    assert "SMTPAuthenticationError" in failure
    assert health.state is HealthState.UNHEALTHY
    assert "SMTPAuthenticationError" in health.message
    assert_nowhere(wrong, caplog, health.message)


def test_a_server_that_echoes_the_password_has_it_masked(
    smtp_server: StartServer, certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    # A badly behaved server that repeats the password in its refusal of a recipient.
    mailbox = Mailbox(refuse={"oncall@example.com"}, refusal=f"550 5.1.1 {PASSWORD} says no")
    server = smtp_server(mailbox=mailbox, tls_context=certificate.server_context(),
                         require_starttls=True, authenticator=authenticate,
                         auth_required=True)  # fmt: skip
    assert not send(EmailAlertChannel(auth_config(server, certificate)), violation())
    assert len(server.mailbox.received) == 1
    [failure] = failures(caplog)
    assert "oncall@example.com (550 5.1.1 *** says no)" in failure
    assert_nowhere(PASSWORD, caplog)


def test_auth_required_but_not_configured_is_a_failure(
    auth_server: Server, certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    channel = EmailAlertChannel(
        config(auth_server.port, security="starttls", ca_file=str(certificate.cert))
    )
    assert not send(channel, violation())
    [failure] = failures(caplog)
    assert "530" in failure


# health_check


def test_health_check_is_healthy_when_the_server_answers(smtp_server: StartServer) -> None:
    server = smtp_server()
    health = EmailAlertChannel(config(server.port)).health_check(timeout=2)
    assert health.state is HealthState.HEALTHY
    assert health.message == f"SMTP server 127.0.0.1:{server.port} answered"
    assert server.mailbox.received == []


def test_health_check_secures_and_logs_in_as_configured(
    auth_server: Server, certificate: Certificate
) -> None:
    health = EmailAlertChannel(auth_config(auth_server, certificate)).health_check(timeout=2)
    assert health.state is HealthState.HEALTHY


def test_health_check_works_from_async_code(smtp_server: StartServer) -> None:
    server = smtp_server()

    async def check() -> HealthStatus:
        return EmailAlertChannel(config(server.port)).health_check(timeout=2)

    assert asyncio.run(check()).state is HealthState.HEALTHY


def test_health_check_is_unhealthy_when_nothing_listens() -> None:
    port = free_port()
    health = EmailAlertChannel(config(port)).health_check(timeout=2)
    assert health.state is HealthState.UNHEALTHY
    assert health.message.startswith(f"SMTP server 127.0.0.1:{port}: SMTPConnectError")


def test_health_check_is_bounded_by_its_timeout(silent_port: int) -> None:
    started = time.monotonic()
    health = EmailAlertChannel(config(silent_port)).health_check(timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert health == HealthStatus(
        HealthState.UNHEALTHY, f"SMTP server 127.0.0.1:{silent_port}: no answer within 0.5 s"
    )


def test_health_check_of_an_invalid_config_is_unhealthy() -> None:
    health = EmailAlertChannel({"host": "", "password": PASSWORD}).health_check()
    assert health.state is HealthState.UNHEALTHY
    assert "config.host" in health.message
    assert PASSWORD not in health.message


# Config


def test_a_full_config_is_valid() -> None:
    channel = EmailAlertChannel(
        {"host": "smtp.example.com", "port": 465, "username": USERNAME, "password": PASSWORD,
         "from_address": "floe@example.com", "to_addresses": ["a@example.com"],
         "timeout_seconds": 3, "ca_file": __file__, "verify_tls": True}
    )  # fmt: skip
    assert channel.validate_config() == []
    settings = channel.settings()
    assert settings.security is Security.TLS
    assert settings.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings)
    assert channel.secrets() == {PASSWORD}


@pytest.mark.parametrize(
    ("port", "security"),
    [(465, Security.TLS), (587, Security.STARTTLS), (25, Security.NONE), (2525, Security.NONE)],
)
def test_security_defaults_by_port(port: int, security: Security) -> None:
    base = {"host": "h", "from_address": "a@b.c", "to_addresses": ["d@e.f"]}
    assert EmailAlertChannel({**base, "port": port}).settings().security is security
    explicit = {**base, "port": port, "security": "none"}
    assert EmailAlertChannel(explicit).settings().security is Security.NONE


def test_the_default_port_is_587_with_starttls_and_10_seconds() -> None:
    settings = EmailChannelConfig.model_validate(
        {"host": "h", "from_address": "a@b.c", "to_addresses": ["d@e.f"]}
    )
    assert (settings.port, settings.security, settings.timeout_seconds) == (
        587,
        Security.STARTTLS,
        10,
    )
    assert (settings.username, settings.password, settings.verify_tls) == (None, None, True)


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        (
            {"host": None, "from_address": None, "to_addresses": None},
            ["config.host: Field required", "config.from_address: Field required",
             "config.to_addresses: Field required"],
        ),
        (
            {"from_address": "floe", "to_addresses": ["a@example.com", "nobody", "x y@z"]},
            ["config.from_address: 'floe' is not an email address: expected name@domain",
             "config.to_addresses[1]: 'nobody' is not an email address: expected name@domain",
             "config.to_addresses[2]: 'x y@z' is not an email address: expected name@domain"],
        ),
        (
            {"to_addresses": []},
            ["config.to_addresses: List should have at least 1 item after validation, not 0"],
        ),
        ({"username": USERNAME}, ["config.password: required when username is set"]),
        (
            {"password": PASSWORD},
            ["config.password: set without a username: the channel logs in with both or neither"],
        ),
        (
            {"port": 0, "security": "ssl", "timeout_seconds": 0, "smtp": "x"},
            ["config.port: Input should be greater than or equal to 1",
             "config.security: Input should be 'none', 'starttls' or 'tls'",
             "config.timeout_seconds: Input should be greater than 0",
             "config.smtp: Extra inputs are not permitted"],
        ),
    ],
)  # fmt: skip
def test_validate_config_names_each_bad_field(
    overrides: dict[str, Any], problems: list[str]
) -> None:
    base = {"host": "smtp.example.com", "from_address": "a@b.c", "to_addresses": ["d@e.f"]}
    cfg = {key: value for key, value in {**base, **overrides}.items() if value is not None}
    channel = EmailAlertChannel(cfg)
    assert channel.validate_config() == problems
    assert all(PASSWORD not in problem for problem in problems)


def test_a_ca_file_that_does_not_exist_is_a_problem(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    cfg = {"host": "h", "from_address": "a@b.c", "to_addresses": ["d@e.f"], "ca_file": str(missing)}
    channel = EmailAlertChannel(cfg)
    assert channel.validate_config() == [f"config.ca_file: no such file: {missing}"]
    health = channel.health_check(timeout=1)
    assert health.state is HealthState.UNHEALTHY
    assert "FileNotFoundError" in health.message


def test_the_channel_is_registered_under_its_entry_point() -> None:
    [entry] = entry_points(group="floe.alert_channels", name="email")
    assert entry.load() is EmailAlertChannel
    channel = EmailAlertChannel()
    assert (channel.name, channel.version, channel.floe_api_version) == (
        "email",
        "0.1.0",
        FLOE_API_VERSION,
    )
    assert EmailAlertChannel.get_config_schema() is EmailChannelConfig
    assert not EmailAlertChannel.deduplicates_itself
