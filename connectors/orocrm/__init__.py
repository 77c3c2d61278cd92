"""OroCRM (Oro Platform 5.x/6.x back-office API): contacts over JSON:API with OAuth2.

Contacts are read with their addresses and written back (names, e-mails,
phones, birthday, gender). No licence-clean Oro material exists, so the
sandbox follows Oro's public documentation; its docstring says what it follows.
"""
