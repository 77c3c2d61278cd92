"""The example connector: a small REST CRM, read and written through hub.http.

It is the reference for HTTP connectors, and `crmhub new-connector` generates a
new package from the same code (hub/templates/connector/).
"""
