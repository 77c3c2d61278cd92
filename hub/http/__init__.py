"""The shared HTTP layer every connector talks through.

One :class:`ApiClient` per connection gives a connector timeouts, the vendor's
rate limits, retries, an error policy and credential masking, so the connector
itself only says which paths to call and what the vendor's quirks are.
"""

from hub.http.auth import BasicAuth, HeaderAuth, QueryAuth, SecretAuth, bearer
from hub.http.client import ApiClient, RequestOptions
from hub.http.clock import Clock, SystemClock, VirtualClock
from hub.http.paging import cursor_pages, link_pages, numbered_pages, offset_pages
from hub.http.policy import DEFAULT_POLICY, Action, ErrorPolicy, Rule, vendor_message
from hub.http.ratelimit import (
    CostBucket,
    HeaderWindow,
    LeakyBucket,
    MetaUsage,
    Permit,
    RateLimiter,
)
from hub.http.redact import Redactor
from hub.http.retry import RetrySettings, retry_after

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "ApiClient",
    "BasicAuth",
    "Clock",
    "CostBucket",
    "ErrorPolicy",
    "HeaderAuth",
    "HeaderWindow",
    "LeakyBucket",
    "MetaUsage",
    "Permit",
    "QueryAuth",
    "RateLimiter",
    "Redactor",
    "RequestOptions",
    "RetrySettings",
    "Rule",
    "SecretAuth",
    "SystemClock",
    "VirtualClock",
    "bearer",
    "cursor_pages",
    "link_pages",
    "numbered_pages",
    "offset_pages",
    "retry_after",
    "vendor_message",
]
