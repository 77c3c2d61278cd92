"""Long-running crmhub: webhooks and the inbox, ``crmhub run`` and ``crmhub worker``."""
