"""How every Kafka client of a service authenticates: one place, from the settings.

On Kubernetes each service has its own Strimzi KafkaUser (SCRAM over TLS); locally the
broker is plain. `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`,
`KAFKA_SASL_PASSWORD` and `KAFKA_SSL_CAFILE` (unprefixed, shared by every service, as the
manifests set them) become FastStream's `security=` for the broker and the equivalent
aiokafka keyword arguments for the clients we build ourselves (request/reply, admin).
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


class KafkaSecurity(BaseModel):
    """The connection security of every Kafka client of a service."""

    model_config = ConfigDict(frozen=True)

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        if self.security_protocol.startswith("SASL_"):
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_MECHANISM", self.sasl_mechanism),
                    ("KAFKA_SASL_USERNAME", self.sasl_username),
                    ("KAFKA_SASL_PASSWORD", self.sasl_password),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"{self.security_protocol} needs {', '.join(missing)}")
        return self

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context trusting `ssl_cafile` (system CAs when unset), or None for plain."""
        if not self.security_protocol.endswith("SSL"):
            return None
        context: ssl.SSLContext = create_ssl_context(cafile=self.ssl_cafile)
        return context

    def faststream(self) -> BaseSecurity | None:
        """FastStream's `security=` for a KafkaBroker; None on a plain listener."""
        context = self.ssl_context()
        if self.security_protocol.startswith("SASL_"):
            # _complete() guarantees all three for a SASL protocol.
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError("SASL needs a mechanism, a username and a password")
            return _SASL[self.sasl_mechanism](
                self.sasl_username,
                self.sasl_password.get_secret_value(),
                ssl_context=context,
                use_ssl=context is not None,
            )
        if context is not None:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        return None

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer/Consumer/AdminClient built by hand."""
        return parse_security(self.faststream())
