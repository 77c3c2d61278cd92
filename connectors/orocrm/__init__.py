"""OroCRM (Oro Platform 5.x/6.x back-office API): JSON:API with OAuth2 client credentials.

Contacts are read with their addresses and accounts and written back (names,
e-mails, phones, birthday, gender, addresses); accounts, opportunities and the
Magento customers Oro's integration keeps are read. No licence-clean Oro
material exists, so the sandbox follows Oro's public documentation; its
docstring says what it follows.
"""
