"""Visit and touch-point rows -> interaction dicts, as a table."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.files.interactions import row_to_interaction
from hub.errors import RecordError
from hub.model import Interaction, InteractionKind

COLUMNS = {
    "id": "external_id",
    "hour": "occurred_at",
    "email": "customer_email",
    "people": "visits",
    "door": "detail:door",
}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (  # a door counter's hourly total: anonymous, kind and channel from the file settings
            {"id": "7", "hour": "2026-11-04T10:00:00+01:00", "people": "42", "door": "north"},
            {
                "kind": "store_visit",
                "channel": "madrid",
                "occurred_at": "2026-11-04T10:00:00+01:00",
                "details": {"visits": 42, "door": "north"},
            },
        ),
        (  # a signed-in visitor from a web analytics export
            {"id": "8", "hour": "2026-11-04T10:05:00+01:00", "email": "ann@example.com"},
            {
                "kind": "store_visit",
                "channel": "madrid",
                "occurred_at": "2026-11-04T10:05:00+01:00",
                "customer_email": "ann@example.com",
                "details": {},
            },
        ),
    ],
)
def test_rows_map_to_interactions(row: dict[str, str], expected: dict[str, Any]) -> None:
    external_id, data = row_to_interaction(
        row, COLUMNS, kind=InteractionKind.STORE_VISIT, channel="madrid"
    )
    assert external_id == row["id"] and data == expected
    Interaction.model_validate(data)  # and it is a valid canonical interaction


def test_a_count_that_is_not_a_number_names_the_row() -> None:
    with pytest.raises(RecordError, match="visits 'many' is not a whole number") as caught:
        row_to_interaction(
            {"id": "9", "hour": "2026-11-04T10:00:00+01:00", "people": "many"},
            COLUMNS,
            kind=InteractionKind.STORE_VISIT,
            channel=None,
        )
    assert caught.value.external_id == "9"
