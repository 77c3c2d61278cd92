"""dlt's rest_api source reading the sandbox's contacts; run by the peers' virtualenv only.

    <peers venv>/bin/python bench/peers/dlt_pull.py URL TOKEN sqlite|duckdb DIR

The source is configured as dlt's documentation shows for a cursor-paged JSON
API: the records under ``data``, the next cursor at ``next_page_token`` sent
back as ``page_token``, a bearer token. The sqlite target goes through dlt's
``sqlalchemy`` destination, duckdb through its own. Prints the loaded row count
as JSON. This file imports dlt, so crmhub's own environment never runs it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import dlt
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from dlt.sources.rest_api import rest_api_source


def main(url: str, token: str, target: str, folder: str) -> None:
    source = rest_api_source(
        {
            "client": {
                "base_url": url,
                "auth": {"type": "bearer", "token": token},
                "paginator": JSONResponseCursorPaginator(
                    cursor_path="next_page_token", cursor_param="page_token"
                ),
            },
            "resources": [
                {
                    "name": "contacts",
                    "endpoint": {
                        "path": "api/v1/contacts",
                        "params": {"limit": 100},
                        "data_selector": "data",
                    },
                    "primary_key": "id",
                    "write_disposition": "merge",
                }
            ],
        }
    )
    where = Path(folder)
    if target == "sqlite":
        destination = dlt.destinations.sqlalchemy(f"sqlite:///{where / 'dlt.db'}")
    else:
        destination = dlt.destinations.duckdb(str(where / "dlt.duckdb"))
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{target}",
        destination=destination,
        dataset_name="bench",
        pipelines_dir=str(where / "pipelines"),
    )
    pipeline.run(source)
    with pipeline.sql_client() as client:
        rows = client.execute_sql("SELECT count(*) FROM contacts")
    print(json.dumps({"records": int(rows[0][0])}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
