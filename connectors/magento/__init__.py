"""Magento 2 (Adobe Commerce / Magento Open Source 2.4): customers and orders over REST.

Customers are read and written (read-modify-write, since Magento's PUT wants
the whole customer); orders are read only. The sandbox emulates the REST API
from Adobe's own OpenAPI schema and documentation pages.
"""
