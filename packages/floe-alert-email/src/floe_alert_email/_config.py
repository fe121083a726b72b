"""The email channel's config: which SMTP server, how to secure and log in to it, who gets mail."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError


class Security(str, Enum):
    """How the connection to the SMTP server is encrypted."""

    NONE = "none"  # plain SMTP
    STARTTLS = "starttls"  # plain connect, then STARTTLS (required: no fallback to plain)
    TLS = "tls"  # TLS from the first byte ("SMTPS", implicit TLS)


#: ``security`` when the config does not say: what the well-known submission ports speak.
DEFAULT_SECURITY_BY_PORT = {465: Security.TLS, 587: Security.STARTTLS}


def _address(value: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not (at and local and domain) or any(ch.isspace() for ch in value):
        raise PydanticCustomError(
            "email_address",
            "'{address}' is not an email address: expected name@domain",
            {"address": value},
        )
    return value


#: A minimally checked address: something, an @, a domain, no whitespace.
EmailAddress = Annotated[str, AfterValidator(_address)]


class EmailChannelConfig(BaseModel):
    """Where and how the ``email`` channel sends its mail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    # Defaults by port: 465 -> tls, 587 -> starttls, any other -> none.
    security: Security = Security.STARTTLS
    username: str | None = Field(None, min_length=1)
    password: SecretStr | None = Field(None, validate_default=True)
    from_address: EmailAddress
    to_addresses: list[EmailAddress] = Field(min_length=1)
    timeout_seconds: float = Field(10, gt=0)
    # A PEM file of the CA certificates to trust instead of the system's (a private CA, or a
    # self-signed server certificate); with ``verify_tls: false`` nothing is checked at all.
    ca_file: str | None = None
    verify_tls: bool = True

    @model_validator(mode="before")
    @classmethod
    def _security_from_port(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("security") is None:
            try:
                port = int(data.get("port", 587))
            except (TypeError, ValueError):
                return data  # the port's own validation says what is wrong with it
            return {**data, "security": DEFAULT_SECURITY_BY_PORT.get(port, Security.NONE)}
        return data

    @field_validator("password")
    @classmethod
    def _credentials_in_pairs(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if "username" not in info.data:
            return value  # the username's own validation says what is wrong with it
        if value is None and info.data["username"] is not None:
            raise PydanticCustomError("missing", "required when username is set")
        if value is not None and info.data["username"] is None:
            raise PydanticCustomError(
                "credentials", "set without a username: the channel logs in with both or neither"
            )
        return value
