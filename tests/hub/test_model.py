from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hub.model import Customer, Interaction, Order, OrderLine, Segment


def _error_types(exc: ValidationError) -> dict[tuple[str | int, ...], str]:
    return {tuple(error["loc"]): error["type"] for error in exc.errors()}


def test_customer_normalises_contact_data() -> None:
    customer = Customer(
        emails=["Ann@Example.com", "ann@example.com", "ann.work@example.com"],
        phones=["612 345 678", "+34 612 345 678"],
        addresses=[{"kind": "home", "country": "spain", "city": "Madrid"}],
        tags=["vip", " vip ", "newsletter"],
        language="es_ES",
        identifiers={"Tax_ID": " B123 "},
    )
    assert customer.emails == ["ann@example.com", "ann.work@example.com"]
    assert customer.phones == ["+34612345678"]
    assert customer.addresses[0].country == "ES"
    assert customer.tags == ["newsletter", "vip"]
    assert customer.language == "es-ES"
    assert customer.identifiers == {"tax_id": "B123"}
    assert customer.primary_email == "ann@example.com"


def test_phone_region_comes_from_context_when_no_address() -> None:
    customer = Customer.model_validate(
        {"phones": ["020 7946 0018"]}, context={"default_region": "GB"}
    )
    assert customer.phones == ["+442079460018"]


@pytest.mark.parametrize(
    ("data", "loc", "error_type"),
    [
        ({"emails": ["ann@@example.com"]}, ("emails", 0), "email_invalid"),
        ({"phones": ["12"], "addresses": [{"country": "ES"}]}, ("phones",), "phone_invalid"),
        ({"addresses": [{"country": "Atlantis"}]}, ("addresses", 0, "country"), "country_invalid"),
        ({"language": "klingon"}, ("language",), "language_invalid"),
        ({"created_at": "2024-01-01T10:00:00"}, ("created_at",), "timestamp_naive"),
        ({"shoe_size": 42}, ("shoe_size",), "extra_forbidden"),
    ],
)
def test_invalid_values_are_typed_errors_not_dropped(
    data: dict[str, object], loc: tuple[str | int, ...], error_type: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Customer.model_validate(data)
    assert _error_types(caught.value) == {loc: error_type}


def test_timestamps_are_converted_to_utc() -> None:
    madrid = timezone(timedelta(hours=1))
    customer = Customer(created_at=datetime(2024, 1, 1, 10, 0, tzinfo=madrid))
    assert customer.created_at == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert customer.created_at is not None and customer.created_at.tzinfo == UTC


def test_order_money_is_decimal_with_iso_currency() -> None:
    order = Order(
        placed_at=datetime(2024, 3, 1, tzinfo=UTC),
        currency="eur",
        total="118.90",
        lines=[OrderLine(name="Jeans", quantity=2, unit_price=Decimal("59.45"))],
    )
    assert order.currency == "EUR"
    assert order.total == Decimal("118.90")
    assert order.lines[0].total == Decimal("118.90")
    with pytest.raises(ValidationError) as caught:
        Order(placed_at=datetime(2024, 3, 1, tzinfo=UTC), currency="EURO", total=1)
    assert _error_types(caught.value) == {("currency",): "currency_invalid"}


def test_canonical_dict_omits_unset_values_so_hashes_are_stable() -> None:
    assert Customer(first_name="Ann").canonical_dict() == {"first_name": "Ann"}


def test_interaction_and_segment_validation() -> None:
    ticket = Interaction(kind="ticket", occurred_at=datetime(2024, 1, 1, tzinfo=UTC), status="open")
    assert ticket.kind == "ticket"
    with pytest.raises(ValidationError):
        Interaction(kind="fax", occurred_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert Segment(name="at_risk", channel="email").channel == "email"
    with pytest.raises(ValidationError):
        Segment(name="At Risk!")
