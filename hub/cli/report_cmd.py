"""`crmhub report`: the sections every plugin contributes, as tables, JSON or one HTML file.

The HTML report is a single file with inline CSS and inline SVG charts: a
manager opens it from an e-mail attachment, with no server, script or CDN.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli.context import store_for
from hub.cli.output import (
    ConfigOption,
    JsonOption,
    console,
    print_json,
    print_table,
    reports_errors,
)
from hub.cli.segments_cmd import AsOfOption, as_of_or_now
from hub.plugins import ReportSection

__all__ = ["render_html", "report"]

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:.5em 0 2em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "th{background:#eef}td:first-child{text-align:left}svg{max-width:720px;display:block}"
)


def _cell(value: Any) -> str:
    return "" if value is None else escape(str(value))


def render_html(sections: Sequence[ReportSection], as_of: datetime) -> str:
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>crmhub report</title>"
        f"<style>{STYLE}</style></head><body><h1>crmhub report</h1>"
        f"<p>As of {escape(as_of.isoformat(timespec='minutes'))}</p>"
    ]
    for section in sections:
        parts.append(f"<h2>{escape(section.title)}</h2>")
        if section.chart:
            parts.append(section.chart)
        head = "".join(f"<th>{escape(str(c))}</th>" for c in section.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in section.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "".join(parts)


@reports_errors
def report(
    config: ConfigOption = Path("crmhub.yaml"),
    as_json: JsonOption = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report here")
    ] = None,
    as_of: AsOfOption = None,
) -> None:
    """Portfolio KPIs, RFM, CLV, cohorts, channels and segment sizes from the last evaluation."""
    hub_config, plugins, store = store_for(config)
    moment = as_of_or_now(as_of)
    sections = plugins.report_sections(store, hub_config, moment)
    if html is not None:
        html.write_text(render_html(sections, moment), encoding="utf-8")
    if as_json:
        print_json(
            [
                {"title": s.title, "columns": list(s.columns), "rows": [list(r) for r in s.rows]}
                for s in sections
            ]
        )
        return
    for section in sections:
        print_table(section.title, section.columns, section.rows)
    if html is not None:
        console.print(f"wrote {html}")
