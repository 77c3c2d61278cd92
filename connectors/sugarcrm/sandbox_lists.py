"""Sugar's relationship endpoints in the sandbox, for Target Lists (module ``ProspectLists``).

The endpoint paths follow SugarCRM's own PHP client (the catalogue in
tests/fixtures/vendor/sugarcrm/: ``{module}/{record}/link/{relationship}``
and ``.../{remote_id}`` with GET, POST and DELETE). The rest follows Sugar's
public REST v11 documentation (RelateRecordApi), which that material does not
cover: relating answers ``{"record", "related_record"}``, both as the API serves
them; relating an already related record, or unrelating one that is not,
changes nothing and answers the same; an unknown record, related record or
link name is 404 ``not_found``; listing a link takes ``max_num`` and
``offset`` and answers ``{"next_offset", "records"}`` like a filter. The link
names are Sugar's ProspectLists vardefs: ``contacts`` and ``leads``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sugarcrm.mapping import SugarRecord

__all__ = ["LINKS", "TARGET_LISTS", "Relations"]

TARGET_LISTS = "ProspectLists"
LINKS = {TARGET_LISTS: {"contacts": "Contacts", "leads": "Leads"}}
"""Module -> link name -> the related module, as Sugar's vardefs name them."""

Served = Callable[[SugarRecord], SugarRecord]


class Relations:
    """Which records a record relates to through each of its link fields."""

    def __init__(self, modules: dict[str, dict[str, SugarRecord]], served: Served) -> None:
        self.modules, self.served = modules, served
        self.pairs: set[tuple[str, str, str]] = set()
        """(record id, link name, related id) for every live relationship."""

    def related(self, module: str, record_id: str, link: str) -> list[SugarRecord]:
        """The related records that still exist (a deleted contact leaves every list)."""
        rows = self.modules[LINKS[module][link]]
        ids = sorted(r for owner, name, r in self.pairs if (owner, name) == (record_id, link))
        return [rows[i] for i in ids if i in rows]

    def contacts_on(self, name: str) -> set[str]:
        """The ids of the contacts on every Target List called ``name``, for tests."""
        lists = [r for r in self.modules[TARGET_LISTS].values() if r.get("name") == name]
        return {
            str(contact["id"])
            for target in lists
            for contact in self.related(TARGET_LISTS, str(target["id"]), "contacts")
        }

    def memberships(self) -> dict[str, SugarRecord]:
        """Every contact on a Target List, by ``<list id>/<contact id>``, as the API serves it."""
        return {
            f"{target}/{contact['id']}": self.served(contact)
            for target in sorted(self.modules[TARGET_LISTS])
            for contact in self.related(TARGET_LISTS, target, "contacts")
        }

    def routes(self, root: str) -> list[BaseRoute]:
        path = root + "/{module}/{record}/link/{link}"
        return [
            Route(path, self._list, methods=["GET"]),
            Route(path + "/{remote}", self._relate, methods=["POST"]),
            Route(path + "/{remote}", self._unrelate, methods=["DELETE"]),
        ]

    async def _relate(self, request: Request) -> Response:
        return self._change(request, self.pairs.add)

    async def _unrelate(self, request: Request) -> Response:
        return self._change(request, self.pairs.discard)

    def _change(self, request: Request, apply: Callable[[tuple[str, str, str]], None]) -> Response:
        found = self._ends(request)
        if isinstance(found, Response):
            return found
        record, link, related = found
        apply((str(record["id"]), link, str(related["id"])))
        return JSONResponse({"record": self.served(record), "related_record": self.served(related)})

    async def _list(self, request: Request) -> Response:
        found = self._owner(request)
        if isinstance(found, Response):
            return found
        record, link = found
        try:
            size = min(int(request.query_params.get("max_num") or 20), 1000)
            start = int(request.query_params.get("offset") or 0)
        except ValueError as exc:
            return _error(422, "invalid_parameter", str(exc))
        related = self.related(str(record["_module"]), str(record["id"]), link)
        more = start + size < len(related)
        return JSONResponse(
            {
                "next_offset": start + size if more else -1,
                "records": [self.served(r) for r in related[start : start + size]],
            }
        )

    def _owner(self, request: Request) -> tuple[SugarRecord, str] | Response:
        module, record_id = request.path_params["module"], request.path_params["record"]
        link = request.path_params["link"]
        if module not in self.modules:
            return _error(404, "not_found", f"Could not find module: {module}")
        record = self.modules[module].get(record_id)
        if record is None:
            return _error(404, "not_found", f"Could not find record: {record_id} in {module}")
        if link not in LINKS.get(module, {}):
            return _error(404, "not_found", f"Could not find a relationship named: {link}")
        return record, link

    def _ends(self, request: Request) -> tuple[SugarRecord, str, SugarRecord] | Response:
        found = self._owner(request)
        if isinstance(found, Response):
            return found
        record, link = found
        related = self.modules[LINKS[record["_module"]][link]].get(request.path_params["remote"])
        if related is None:
            return _error(404, "not_found", "Could not find the related bean")
        return record, link, related


def _error(status: int, code: str, message: str) -> Response:
    body: dict[str, Any] = {"error": code, "error_message": message}
    return JSONResponse(body, status)
