"""The GraphQL documents the connector sends, in one place.

Paged reads and bulk operations select the same fields, so a record has one
shape whichever way it was read, and the mapping has one input. The sizes of
nested lists are parameters because they drive the calculated cost: Shopify
refuses a query that requests more than 1000 points.
"""

from __future__ import annotations

import json

__all__ = [
    "ADDRESSES",
    "BULK_POLL",
    "BULK_RUN",
    "CURRENT_BULK",
    "CUSTOMER_BY_EMAIL",
    "CUSTOMER_CREATE",
    "CUSTOMER_DELETE",
    "CUSTOMER_FIELDS",
    "CUSTOMER_UPDATE",
    "EMAIL_CONSENT",
    "LINE_ITEMS",
    "METAFIELDS_DELETE",
    "METAFIELDS_SET",
    "SMS_CONSENT",
    "TAGS_ADD",
    "TAGS_REMOVE",
    "bulk_query",
    "customer_fields",
    "customer_mutations",
    "order_fields",
    "page_query",
]

ADDRESSES = 3
"""Addresses read per customer; Shopify sizes the list's cost by it."""
LINE_ITEMS = 5
"""Line items read per order in paged reads, by default (bulk reads take them all)."""

CUSTOMER_FIELDS = f"""
id firstName lastName email phone note locale tags state verifiedEmail createdAt updatedAt
addresses(first: {ADDRESSES}) {{
  address1 address2 city company province provinceCode zip countryCodeV2
}}
emailMarketingConsent {{ marketingState marketingOptInLevel consentUpdatedAt }}
smsMarketingConsent {{ marketingState marketingOptInLevel consentUpdatedAt }}
amountSpent {{ amount currencyCode }}
numberOfOrders
"""


def customer_fields(metafields: list[str], *, bulk: bool = False) -> str:
    """A customer's fields, with the metafields named ``namespace.key`` when there are any.

    Only the configured keys are asked for (``keys:``), so a paged read pays
    for them alone: ``2 + len(metafields)`` points per customer. A bulk
    export writes them as lines of their own after their customer.
    """
    if not metafields:
        return CUSTOMER_FIELDS
    keys = json.dumps(metafields)
    node = "id namespace key value type"
    selection = (
        f"metafields(keys: {keys}) {{ edges {{ node {{ {node} }} }} }}"
        if bulk
        else f"metafields(first: {len(metafields)}, keys: {keys}) {{ nodes {{ {node} }} }}"
    )
    return f"{CUSTOMER_FIELDS}{selection}\n"


def order_fields(line_items: int | None) -> str:
    """An order's fields, reading its first ``line_items`` lines (all of them: None).

    A bulk export takes no sizes and no ``pageInfo``; its nested connection
    must be written as ``edges { node }``, and its lines arrive as JSONL
    lines of their own with ``__parentId``.
    """
    money = "shopMoney { amount currencyCode }"
    line = f"""id name sku quantity product {{ id }}
    originalUnitPriceSet {{ {money} }} discountedTotalSet {{ {money} }}"""
    lines = (
        f"lineItems {{ edges {{ node {{ {line} }} }} }}"
        if line_items is None
        else f"lineItems(first: {line_items}) {{ nodes {{ {line} }} pageInfo {{ hasNextPage }} }}"
    )
    return f"""
id name email createdAt updatedAt processedAt cancelledAt cancelReason closed closedAt
currencyCode displayFinancialStatus displayFulfillmentStatus sourceName
customer {{ id }}
subtotalPriceSet {{ {money} }}
totalDiscountsSet {{ {money} }}
totalShippingPriceSet {{ {money} }}
totalTaxSet {{ {money} }}
totalPriceSet {{ {money} }}
totalRefundedSet {{ {money} }}
{lines}
"""


def page_query(root: str, fields: str) -> str:
    """One page of ``root`` (customers or orders) changed in the window of ``$query``."""
    return f"""
query Page($first: Int!, $after: String, $query: String) {{
  {root}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ node {{ {fields} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


def bulk_query(root: str, fields: str) -> str:
    """A bulk export of every ``root`` record: no page size on the root connection."""
    return f"{{ {root}(sortKey: UPDATED_AT) {{ edges {{ node {{ {fields} }} }} }} }}"


CUSTOMER_BY_EMAIL = f"""
query CustomerByEmail($query: String!) {{
  customers(first: 1, query: $query) {{ edges {{ node {{ {CUSTOMER_FIELDS} }} }} }}
}}
"""


def customer_mutations(fields: str = CUSTOMER_FIELDS) -> dict[str, str]:
    """The mutations that answer with a customer, selecting ``fields`` of it.

    A mutation costs 10 points whatever it selects, so a writer that needs the
    customer's metafields afterwards asks for them here instead of reading again.
    """
    payload = f"customer {{ {fields} }} userErrors {{ field message }}"
    return {
        "create": f"""
mutation CustomerCreate($input: CustomerInput!) {{ customerCreate(input: $input) {{ {payload} }} }}
""",
        "update": f"""
mutation CustomerUpdate($input: CustomerInput!) {{ customerUpdate(input: $input) {{ {payload} }} }}
""",
        "email": f"""
mutation EmailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {{
  customerEmailMarketingConsentUpdate(input: $input) {{ {payload} }}
}}
""",
        "sms": f"""
mutation SmsConsent($input: CustomerSmsMarketingConsentUpdateInput!) {{
  customerSmsMarketingConsentUpdate(input: $input) {{ {payload} }}
}}
""",
    }


_MUTATIONS = customer_mutations()
CUSTOMER_CREATE = _MUTATIONS["create"]
CUSTOMER_UPDATE = _MUTATIONS["update"]
CUSTOMER_DELETE = """
mutation CustomerDelete($input: CustomerDeleteInput!) {
  customerDelete(input: $input) { deletedCustomerId userErrors { field message } }
}
"""
EMAIL_CONSENT = _MUTATIONS["email"]
SMS_CONSENT = _MUTATIONS["sms"]
TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}
"""
TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } }
}
"""
METAFIELDS_SET = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key value }
    userErrors { field message code elementIndex }
  }
}
"""
METAFIELDS_DELETE = """
mutation MetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { namespace key }
    userErrors { field message }
  }
}
"""
BULK_RUN = """
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status createdAt }
    userErrors { field message }
  }
}
"""
CURRENT_BULK = """
query CurrentBulk { currentBulkOperation { id status createdAt query } }
"""
BULK_POLL = """
query BulkPoll($id: ID!) {
  node(id: $id) {
    ... on BulkOperation { id status errorCode createdAt completedAt objectCount url }
  }
}
"""
