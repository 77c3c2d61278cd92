"""hub.http's public surface: what connectors may import, each name documented."""

from __future__ import annotations

import inspect

import hub.http


def test_every_public_name_exists_and_says_why_it_is_there() -> None:
    for name in hub.http.__all__:
        thing = getattr(hub.http, name)
        if inspect.isclass(thing) or inspect.isfunction(thing):
            assert thing.__doc__, f"hub.http.{name} has no docstring"


def test_the_public_list_is_sorted_and_complete() -> None:
    assert list(hub.http.__all__) == sorted(hub.http.__all__, key=lambda n: (not n.isupper(), n))
    exported = {n for n in vars(hub.http) if not n.startswith("_")}
    modules = {n for n in exported if inspect.ismodule(getattr(hub.http, n))}
    assert exported - modules == set(hub.http.__all__)
