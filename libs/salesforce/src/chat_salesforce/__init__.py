"""chat_salesforce: Salesforce access shared by the services (bot-actions, crm-sync).

- `tokens`: `AuthTokenSource`, each tenant's access token from the auth service over
  request/reply, cached until expiry, one request in flight per tenant, re-asked once
  (naming the refused token by fingerprint) after `INVALID_SESSION_ID`;
- `gateway`, `operations`: `SalesforceGateway`, Salesforce's REST API on the event loop with
  per-tenant concurrency limits, typed errors, API-budget metrics;
- `http`: the aiohttp session (CA trust for the emulator, timeouts, one connection pool);
- `errors`: Salesforce failures as exception classes;
- `limits`: `Sforce-Limit-Info` parsing and the per-tenant API budget;
- `schema`, `schema_cache`: describe results, typed and cached per tenant;
- `soql`, `templates`, `query_text`: pure SOQL escaping, `{!Name}` placeholder
  rendering (injection-proof by construction) and query-shape helpers.
"""

from chat_salesforce.errors import (
    DuplicatesDetected,
    InvalidField,
    InvalidSession,
    InvalidType,
    MalformedQuery,
    NotConnected,
    RecordNotFound,
    RequestLimitExceeded,
    RequiredFieldMissing,
    SalesforceAccessError,
    SalesforceApiError,
    TokenError,
    TokenUnavailable,
    TransientError,
    TransportError,
)
from chat_salesforce.gateway import GatewayOptions, SalesforceGateway
from chat_salesforce.http import HttpAnswer, HttpOptions, SalesforceHttp
from chat_salesforce.limits import ApiBudget, ApiUsage, parse_limit_info
from chat_salesforce.operations import SalesforceOperations
from chat_salesforce.query_text import QueryShapeError, first_row_query, selected_fields, shape
from chat_salesforce.schema import FieldSchema, ObjectSchema, ObjectSummary
from chat_salesforce.schema_cache import SchemaCache
from chat_salesforce.soql import SoqlValueError, escape_like, escape_string, in_list, quote
from chat_salesforce.templates import (
    TemplateError,
    UnknownPlaceholders,
    placeholders,
    render_soql,
    substitute,
)
from chat_salesforce.tokens import AccessToken, AuthTokenSource, TokenSource

__all__ = [
    "AccessToken",
    "ApiBudget",
    "ApiUsage",
    "AuthTokenSource",
    "DuplicatesDetected",
    "FieldSchema",
    "GatewayOptions",
    "HttpAnswer",
    "HttpOptions",
    "InvalidField",
    "InvalidSession",
    "InvalidType",
    "MalformedQuery",
    "NotConnected",
    "ObjectSchema",
    "ObjectSummary",
    "QueryShapeError",
    "RecordNotFound",
    "RequestLimitExceeded",
    "RequiredFieldMissing",
    "SalesforceAccessError",
    "SalesforceApiError",
    "SalesforceGateway",
    "SalesforceHttp",
    "SalesforceOperations",
    "SchemaCache",
    "SoqlValueError",
    "TemplateError",
    "TokenError",
    "TokenSource",
    "TokenUnavailable",
    "TransientError",
    "TransportError",
    "UnknownPlaceholders",
    "escape_like",
    "escape_string",
    "first_row_query",
    "in_list",
    "parse_limit_info",
    "placeholders",
    "quote",
    "render_soql",
    "selected_fields",
    "shape",
    "substitute",
]
