"""Hub segments as Sugar Target Lists: found or created by name, members related by id.

A Target List is a ``ProspectLists`` record (``list_type`` ``default``, the
kind a campaign sends to) whose ``contacts`` link holds its members. A join
relates the contact (``POST /ProspectLists/{id}/link/contacts/{contact}``),
a leave unrelates it (``DELETE`` on the same path); both are harmless to
repeat, so a batch resent after a crash changes nothing twice. A leave of a
contact (or from a list) deleted in Sugar since is done: it is on no list. Sugar relates
records by id, so only a person the hub links to a Sugar contact can be
added (``SegmentMembership.customer_ref``); anyone else gets a per-record
error saying so, and the rest of the batch goes on.

A list is looked up by name once per connector and created when missing,
since Sugar keys lists by id and the hub by name. The engine sends only
memberships that changed (hub/engine/memberships.py), so a repeated push
makes no call at all.
"""

from __future__ import annotations

from connectors.sugarcrm.client import SugarClient
from connectors.sugarcrm.sandbox_lists import TARGET_LISTS
from hub.connector import Change, RawRecord, WriteResult
from hub.errors import RecordError
from hub.model import SegmentMembership

__all__ = ["LIST_TYPE", "TargetListWriter", "membership_to_sugar"]

LIST_TYPE = "default"
_LINK = "contacts"
_CONTACTS = "Contacts"


def membership_to_sugar(membership: SegmentMembership) -> RawRecord:
    """What Sugar holds of one membership: the list's name and whether the contact is on it."""
    return {"target_list": membership.segment, "member": membership.member}


class TargetListWriter:
    def __init__(self, client: SugarClient) -> None:
        self.client = client
        self._ids: dict[str, str] = {}

    async def write(self, change: Change) -> WriteResult:
        membership = change.record
        if not isinstance(membership, SegmentMembership):
            raise TypeError(
                f"stream segment_members writes memberships, not {type(membership).__name__}"
            )
        contact = change.external_id or membership.customer_ref
        if contact is None:
            return WriteResult(
                change.hub_id,
                None,
                error=f"target list {membership.segment!r}: the hub links this person to no "
                "Sugar contact; push or pull the customers stream of this connection first",
            )
        try:
            list_id = await self._list_id(membership.segment)
            if membership.member:
                await self.client.relate(TARGET_LISTS, list_id, _LINK, contact)
            else:
                await self.client.unrelate(TARGET_LISTS, list_id, _LINK, (_CONTACTS, contact))
        except RecordError as exc:
            return WriteResult(
                change.hub_id, contact, error=f"target list {membership.segment!r}: {exc}"
            )
        return WriteResult(change.hub_id, contact)

    async def _list_id(self, name: str) -> str:
        if name not in self._ids:
            found = await self.client.find_by_name(TARGET_LISTS, name, list_type=LIST_TYPE)
            if found is None:
                found = await self.client.create(
                    TARGET_LISTS,
                    {
                        "name": name,
                        "list_type": LIST_TYPE,
                        "description": f"crmhub segment {name}: its members are set by crmhub",
                    },
                )
            self._ids[name] = str(found["id"])
        return self._ids[name]
