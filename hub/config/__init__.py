"""The crmhub config file: YAML in, validated :class:`HubConfig` out.

``load_config`` is the only way the CLI reads a config; it reports every
problem of a file at once as ``path:line:column: message`` lines in a
ConfigError (exit code 2), before any network or store I/O. The JSON Schema
and the Markdown reference are generated from the same models, so the editor
completion and docs/configuration.md cannot drift from what is accepted.
"""

from hub.config.fields import parse_duration, redact_url
from hub.config.generate import render_config_reference
from hub.config.loader import load_config
from hub.config.models import (
    AnalyticsConfig,
    CandidateConfig,
    ConnectionConfig,
    FieldPolicy,
    HubConfig,
    IdentifierRule,
    IdentityConfig,
    MergeConfig,
    Schedule,
    SegmentConfig,
    ServiceConfig,
    TaskAction,
    TriggerConfig,
    WebhookAction,
)
from hub.config.schema import config_json_schema

__all__ = [
    "AnalyticsConfig",
    "CandidateConfig",
    "ConnectionConfig",
    "FieldPolicy",
    "HubConfig",
    "IdentifierRule",
    "IdentityConfig",
    "MergeConfig",
    "Schedule",
    "SegmentConfig",
    "ServiceConfig",
    "TaskAction",
    "TriggerConfig",
    "WebhookAction",
    "config_json_schema",
    "load_config",
    "parse_duration",
    "redact_url",
    "render_config_reference",
]
