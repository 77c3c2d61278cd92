"""The Mailchimp connector: audience members, campaigns and e-mail activity (Marketing API 3.0).

Members are the hub's customers, with their e-mail consent read from and
written as the member's status; campaigns with their report figures and each
member's opens and clicks come in for analytics; hub segments go out as member
tags. See docs/connectors/mailchimp.md.
"""
