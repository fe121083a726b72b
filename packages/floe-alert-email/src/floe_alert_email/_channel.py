"""The ``email`` alert channel: one email per contract run, sent over SMTP with aiosmtplib.

Every send is one SMTP session (connect, STARTTLS or TLS, login, send, quit) bounded as a
whole by ``timeout_seconds``. Nothing is retried; every failure is logged with the channel's
secrets masked and reported as False.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from floe_alert_email._config import EmailChannelConfig, Security
from floe_alert_email._message import alert_message, resolved_message
from floe_core.errors import PluginError
from floe_core.events import ContractViolationEvent, ResolvedNotice
from floe_core.plugins.alert_channel import AlertChannelPlugin
from floe_core.plugins.metadata import FLOE_API_VERSION, HealthState, HealthStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Outcome:
    """What became of one SMTP session: done or not, and why not (secrets masked)."""

    ok: bool
    reason: str = ""


class EmailAlertChannel(AlertChannelPlugin):
    """Emails each contract run's violations, as one message, to ``to_addresses``."""

    name = "email"
    version = "0.1.0"
    floe_api_version = FLOE_API_VERSION

    @property
    def description(self) -> str:
        return "one email (plain text and HTML) per contract run, over SMTP"

    @classmethod
    def get_config_schema(cls) -> type[EmailChannelConfig]:
        return EmailChannelConfig

    def validate_config(self) -> list[str]:
        problems = self.config_problems()
        ca_file = self.config.get("ca_file")
        if isinstance(ca_file, str) and not Path(ca_file).is_file():
            problems.append(f"config.ca_file: no such file: {ca_file}")
        return problems

    async def send_alert(self, event: ContractViolationEvent) -> bool:
        return await self.send_alerts([event])

    async def send_alerts(self, events: Sequence[ContractViolationEvent]) -> bool:
        if not events:
            return True
        settings = self.usable_settings()
        if settings is None:
            return False
        message = alert_message(
            events, sender=settings.from_address, recipients=settings.to_addresses
        )
        return await self._deliver(settings, message)

    async def send_resolved(self, notice: ResolvedNotice) -> bool:
        settings = self.usable_settings()
        if settings is None:
            return False
        message = resolved_message(
            notice, sender=settings.from_address, recipients=settings.to_addresses
        )
        return await self._deliver(settings, message)

    async def _deliver(self, settings: EmailChannelConfig, message: EmailMessage) -> bool:
        outcome = await self._session(settings, settings.timeout_seconds, message)
        if not outcome.ok:
            log.warning(
                "alert channel %s: delivery failed: %s",
                self.name,
                outcome.reason,
                extra={"channel": self.name, "smtp_host": settings.host},
            )
        return outcome.ok

    def health_check(self, timeout: float = 5.0) -> HealthStatus:
        """Connect, secure and log in as configured, then quit, all within ``timeout``."""
        try:
            settings: EmailChannelConfig = self.settings()
        except PluginError as exc:
            return HealthStatus(HealthState.UNHEALTHY, self.scrub(str(exc)))
        coroutine = self._session(settings, timeout, None)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            outcome = asyncio.run(coroutine)
        else:  # called from async code: its loop cannot run ours, a thread can
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                outcome = pool.submit(asyncio.run, coroutine).result()
        where = f"{settings.host}:{settings.port}"
        if outcome.ok:
            return HealthStatus(HealthState.HEALTHY, f"SMTP server {where} answered")
        return HealthStatus(HealthState.UNHEALTHY, f"SMTP server {where}: {outcome.reason}")

    async def _session(
        self, settings: EmailChannelConfig, timeout: float, message: EmailMessage | None
    ) -> _Outcome:
        """Connect (TLS, login), send ``message`` if there is one, and quit: all in ``timeout``."""
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            # socket.getfqdn() (aiosmtplib's default) may wait on DNS; this never does.
            local_hostname=socket.gethostname() or "localhost",
            timeout=timeout,
            use_tls=settings.security is Security.TLS,
            start_tls=False,  # done below, so that the channel holds every transport it opens
        )
        opened: list[asyncio.BaseTransport | None] = []
        try:
            async with asyncio.timeout(timeout):
                tls = _tls_context(settings) if settings.security is not Security.NONE else None
                await smtp.connect(tls_context=tls)
                opened.append(smtp.transport)
                if settings.security is Security.STARTTLS:
                    await smtp.starttls(tls_context=tls)  # required: never falls back to plain
                    opened.append(smtp.transport)
                if settings.username is not None and settings.password is not None:
                    await smtp.login(settings.username, settings.password.get_secret_value())
                refused = (await smtp.send_message(message))[0] if message else {}
                await smtp.quit()
        except TimeoutError:
            return self._failed(f"no answer within {timeout:g} s")
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            return self._failed(f"{type(exc).__name__}: {exc}")
        finally:
            smtp.close()
            # A TLS transport closes gracefully, in the background: one the event loop ends
            # before would leak its socket. Nothing more is said after QUIT (or a failure).
            for transport in opened:
                if isinstance(transport, asyncio.WriteTransport):
                    transport.abort()
        if refused:
            answers = "; ".join(f"{to} ({answer})" for to, answer in refused.items())
            return self._failed(f"recipients refused: {answers}")
        return _Outcome(True)

    def _failed(self, reason: str) -> _Outcome:
        return _Outcome(False, self.scrub(reason))


def _tls_context(settings: EmailChannelConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
