"""Catalog entries: messaging (to be filled)."""

from __future__ import annotations

from connector._catalog_types import TargetSpec

MESSAGING_SPECS: tuple[TargetSpec, ...] = ()
