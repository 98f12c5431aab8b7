"""Who may see what: the one place every service path asks.

A request is made by a ``Principal`` (resolved per request by the ``principal`` dependency
from an API key or an OIDC token, see ``services.auth``; no credential = the public, which
sees layers of access level ``public`` and no personal field). The endpoints ask
``visible_layers`` / ``layer_for`` / ``visible_columns`` and never look at access levels or the
``personal`` flag themselves. A layer the principal may not see is answered exactly like a
missing one, a field it may not see exactly like an unknown one (no side channel).
"""

from __future__ import annotations

import hashlib
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

    @property
    def scope_key(self) -> str:
        """Everything that decides what this principal sees: responses (and ETags) are equal
        exactly for principals with equal keys."""
        if self.is_public:
            return "public"
        text = "\x1f".join([self.role, ",".join(sorted(self.departments)),
                            ",".join(sorted(self.personal_fields))])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

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
    """The caller of this request: the public without a credential, else the holder of the
    API key or OIDC token (``services.auth``); a bad credential is a 401, never the public.
    The result is kept on the request for the audit trail."""
    state = request.scope.setdefault("state", {})
    who = state.get("spp_principal")
    if who is None:
        from services.auth import resolve

        who = await resolve(request)
        state["spp_principal"] = who
    return who


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
    """The properties this principal may read, filter, sort and download, in schema order.
    (A route returning them notes the read for the audit log: ``services.audit.note_read``.)
    """
    return {n: c for n, c in layer.columns.items() if who.can_see_column(layer, c)}
