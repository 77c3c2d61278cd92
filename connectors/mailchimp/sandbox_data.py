"""The shapes the Mailchimp sandbox serves, field for field as in the recorded responses.

tests/fixtures/vendor/mailchimp/airbyte_expected_records_subset.jsonl holds a
member, a campaign and e-mail activity captured from a live account; these
builders give the same keys, with the same empty-string conventions.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["campaign_body", "member_body", "report_body"]


def _hex(text: str, length: int) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:length]


def member_body(
    email: str,
    status: str,
    merge_fields: dict[str, Any],
    *,
    list_id: str,
    web_id: int,
    stamp: str,
    language: str = "",
) -> dict[str, Any]:
    subscriber = hashlib.md5(email.lower().encode(), usedforsecurity=False).hexdigest()
    fields = {"FNAME": "", "LNAME": "", "ADDRESS": "", "PHONE": "", "BIRTHDAY": ""} | merge_fields
    full_name = " ".join(str(fields[k]) for k in ("FNAME", "LNAME") if fields.get(k))
    return {
        "id": subscriber,
        "email_address": email,
        "unique_email_id": _hex("u" + email.lower(), 10),
        "contact_id": _hex("c" + email.lower(), 32),
        "full_name": full_name,
        "web_id": web_id,
        "email_type": "html",
        "status": status,
        "consents_to_one_to_one_messaging": True,
        "merge_fields": fields,
        "interests": {},
        "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
        "ip_signup": "",
        "timestamp_signup": "",
        "ip_opt": "",
        "timestamp_opt": stamp if status == "subscribed" else "",
        "member_rating": 2,
        "last_changed": stamp,
        "language": language,
        "vip": False,
        "email_client": "",
        "location": {
            "latitude": 0,
            "longitude": 0,
            "gmtoff": 0,
            "dstoff": 0,
            "country_code": "",
            "timezone": "",
            "region": "",
        },
        "marketing_permissions": [],
        "source": "API - Generic",
        "tags_count": 0,
        "tags": [],
        "list_id": list_id,
        "_links": [],
    }


def campaign_body(
    campaign_id: str, title: str, list_id: str, web_id: int, sent: str
) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "web_id": web_id,
        "type": "regular",
        "create_time": sent,
        "archive_url": f"http://eepurl.com/{campaign_id[:6]}",
        "status": "sent",
        "emails_sent": 0,
        "send_time": sent,
        "content_type": "template",
        "recipients": {
            "list_id": list_id,
            "list_is_active": True,
            "list_name": "crmhub sandbox",
            "segment_text": "",
            "recipient_count": 0,
        },
        "settings": {
            "subject_line": title,
            "title": title,
            "from_name": "crmhub",
            "reply_to": "shop@example.com",
            "template_id": 13,
        },
        "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
        "_links": [],
    }


def report_body(
    campaign_id: str, title: str, list_id: str, sent: str, sends: int, opens: int, clicks: int
) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "campaign_title": title,
        "type": "regular",
        "list_id": list_id,
        "list_is_active": True,
        "list_name": "crmhub sandbox",
        "subject_line": title,
        "emails_sent": sends,
        "abuse_reports": 0,
        "unsubscribed": max(0, sends // 50),
        "send_time": sent,
        "bounces": {"hard_bounces": sends // 100, "soft_bounces": sends // 60, "syntax_errors": 0},
        "opens": {
            "opens_total": opens * 2,
            "unique_opens": opens,
            "open_rate": opens / sends if sends else 0,
            "last_open": sent,
        },
        "clicks": {
            "clicks_total": clicks * 2,
            "unique_clicks": clicks,
            "unique_subscriber_clicks": clicks,
            "click_rate": clicks / sends if sends else 0,
            "last_click": sent,
        },
        "_links": [],
    }
