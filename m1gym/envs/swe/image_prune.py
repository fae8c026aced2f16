"""Listing SWE images and removing stale ones (older recipe, old base image, parent gone)."""

from __future__ import annotations

from .images import BASE_LABEL, LAYER_LABEL, PARENT_LABEL, RECIPE_LABEL, RECIPE_VERSION, Log, base_tag, tools_tag


def swe_images(client) -> list[dict]:
    """Every SWE image here: tag, layer, parent, whether it is stale and why."""
    rows = []
    images = client.images.list(filters={"label": LAYER_LABEL})
    tags_here = {t for img in images for t in img.tags} | {t for img in client.images.list() for t in img.tags}
    current_base = base_tag()
    for img in images:
        labels = img.labels or {}
        for tag in img.tags or [img.short_id]:
            why = ""
            if labels.get(RECIPE_LABEL) != str(RECIPE_VERSION):
                why = f"recipe {labels.get(RECIPE_LABEL)} (now {RECIPE_VERSION})"
            elif labels.get(BASE_LABEL) != current_base:
                why = f"built on {labels.get(BASE_LABEL)} (now {current_base})"
            elif labels.get(LAYER_LABEL) == "tools" and tag != tools_tag():
                why = f"old tools recipe (now {tools_tag()})"
            elif labels.get(PARENT_LABEL) and labels.get(PARENT_LABEL) not in tags_here:
                why = f"its parent {labels.get(PARENT_LABEL)} is gone"
            rows.append({"tag": tag, "layer": labels.get(LAYER_LABEL, "?"), "parent": labels.get(PARENT_LABEL, ""),
                         "size_mb": round((img.attrs.get("Size") or 0) / 1e6, 1), "stale": why})
    order = {"instance": 0, "env": 1, "tools": 2}
    return sorted(rows, key=lambda r: (order.get(r["layer"], 3), r["tag"]))


def stale_parents(rows: list[dict]) -> None:
    """Mark images whose parent is stale as stale too (in place)."""
    changed = True
    while changed:
        changed = False
        stale = {r["tag"] for r in rows if r["stale"]}
        for r in rows:
            if not r["stale"] and r["parent"] in stale:
                r["stale"] = f"its parent {r['parent']} is stale"
                changed = True


def prune(client=None, *, everything: bool = False, dry_run: bool = False, log: Log = print) -> list[str]:
    """Remove stale SWE images (``everything``: all SWE images), children before parents."""
    if client is None:
        from ...sandbox.docker_client import connect

        client = connect()
    rows = swe_images(client)
    stale_parents(rows)
    victims = [r for r in rows if everything or r["stale"]]
    removed = []
    for r in victims:  # rows are sorted instance -> env -> tools
        if dry_run:
            log(f"would remove {r['tag']} ({r['stale'] or 'all'})")
            removed.append(r["tag"])
            continue
        try:
            client.images.remove(r["tag"])
            removed.append(r["tag"])
            log(f"removed {r['tag']} ({r['stale'] or 'all'})")
        except Exception as exc:  # noqa: BLE001 - in use by a container, already gone
            log(f"could not remove {r['tag']}: {exc}")
    return removed
