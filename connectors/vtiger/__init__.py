"""The vTiger connector: contacts both ways and HelpDesk tickets as interactions, webservice API."""
