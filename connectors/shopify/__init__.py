"""The Shopify connector: customers and orders over the GraphQL Admin API, and its sandbox.

Reads customers and orders (paged by ``updated_at``, or through a bulk
operation for a first sync), writes customers and segment tags, and turns
signed webhook deliveries into pages for the same pipeline.
"""
