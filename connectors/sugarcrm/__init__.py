"""The SugarCRM connector: contacts both ways and service cases as interactions, REST v11."""
