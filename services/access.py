"""Who may see what: the one place every service path asks.

A request is made by a ``Principal`` (resolved per request by the ``principal`` dependency).
Today every request is anonymous, i.e. the public: it sees layers of access level ``public``
and no personal field. API keys or OIDC later only change ``principal()``; the endpoints ask
``visible_layers`` / ``layer_for`` / ``visible_columns`` and never look at access levels or the
``personal`` flag themselves. A layer the principal may not see is answered exactly like a
missing one, a field it may not see exactly like an unknown one (no side channel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from services.catalog import Column, LayerInfo


@dataclass(frozen=True)
class Principal:
    role: str = "public"  # public | staff | admin
    departments: frozenset[str] = frozenset()  # department codes (owner_code / access list)
    personal_fields: frozenset[str] = field(default_factory=frozenset)  # "layer.field"
    name: str = "anonymous"

    @property
    def is_public(self) -> bool:
        return self.role == "public"

    @property
    def cache_scope(self) -> str:
        """Cache-Control scope: shared caches may keep only what everybody may see."""
        return "public" if self.is_public else "private"

    def can_see_layer(self, layer: LayerInfo) -> bool:
        if self.role == "admin":
            return True
        if layer.access_level == "public":
            return True
        if layer.access_level == "internal":
            return self.role == "staff"
        # restricted: staff of an allowed department or of the owner department
        return self.role == "staff" and bool(
            self.departments & (set(layer.departments) | {layer.owner_code}))

    def can_see_column(self, layer: LayerInfo, column: Column) -> bool:
        if not column.personal:
            return True
        if self.role == "admin":
            return True
        base = column.name.removesuffix("_codelist")
        return f"{layer.id}.{base}" in self.personal_fields


PUBLIC = Principal()


async def principal(request: Request) -> Principal:
    """The caller of this request. No authentication exists yet: everybody is the public."""
    return PUBLIC


def visible_layers(who: Principal, layers: dict[str, LayerInfo]) -> list[LayerInfo]:
    return [layer for layer in layers.values() if who.can_see_layer(layer)]


class LayerHidden(LookupError):
    """Raised for a missing layer and for a layer the principal may not see, alike."""


def layer_for(who: Principal, layers: dict[str, LayerInfo], layer_id: str) -> LayerInfo:
    layer = layers.get(layer_id)
    if layer is None or not who.can_see_layer(layer):
        raise LayerHidden(layer_id)
    return layer


def visible_columns(who: Principal, layer: LayerInfo) -> dict[str, Column]:
    """The properties this principal may read, filter, sort and download, in schema order."""
    return {n: c for n, c in layer.columns.items() if who.can_see_column(layer, c)}
