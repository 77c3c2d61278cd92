"""Canonical records for the kit's write checks, made from the same fake people as sandboxes."""

from __future__ import annotations

from hub.model import Address, Channel, Consent, ConsentStatus, Customer
from hub.testing.fake import fake_people

__all__ = ["sample_customers"]


def sample_customers(count: int = 3, *, seed: int = 99) -> list[Customer]:
    """Customers with the fields most vendors keep: names, e-mail, phone, address, consent.

    Their e-mails carry ``.sample`` so they never equal a seeded sandbox
    customer's, and every third one has opted out, so both consent states
    make the round trip.
    """
    return [
        Customer(
            first_name=person.first_name,
            last_name=person.last_name,
            emails=[person.email.replace("@", ".sample@")],
            phones=[person.phone],
            addresses=[
                Address(
                    line1=person.street,
                    city=person.city,
                    postcode=person.postcode,
                    country=person.country,
                )
            ],
            birth_date=person.birth_date,
            language=person.language,
            consents={
                Channel.EMAIL: Consent(
                    status=ConsentStatus.SUBSCRIBED
                    if person.email_consent
                    else ConsentStatus.UNSUBSCRIBED
                )
            },
        )
        for person in fake_people(count, seed=seed)
    ]
