"""Each global version's OpenAPI document: valid, no colliding operationIds or schema names."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import BIN, Serve, with_pythonpath, write_distribution
from openapi_spec_validator import validate

ITEM_PLUGIN = """
from pydantic import BaseModel
from trading_core import Module, ModuleApi


class Item(BaseModel):
    {fields}


class {cls}Module(Module):
    name = "{name}"


class {cls}Api(ModuleApi):
    module = {cls}Module
    version = "v1"

    def __init__(self, module):
        super().__init__(module)

        @self.get("/items/{{item_id}}", operation_id="getItem", response_model=Item)
        async def get_item(item_id: int) -> Item:
            return Item.model_validate({{"id": item_id, "label": "x", "price": 1.0}})

        @self.post("/items", operation_id="createItem", response_model=Item)
        async def create_item(item: Item) -> Item:
            return item
"""


@pytest.mark.independent
def test_same_names_in_two_modules_do_not_collide(serve: Serve, tmp_path: Path) -> None:
    site = tmp_path / "site"
    for name, fields in (("gadget", "id: int\n    label: str"), ("widget", "id: int\n    price: float")):
        cls = name.title()
        write_distribution(
            site,
            f"{name}-plugin",
            "1.0.0",
            entry_points={f"{name}.v1": f"{name}_items:{cls}Api"},
            files={f"{name}_items.py": ITEM_PLUGIN.format(fields=fields, cls=cls, name=name)},
        )
    server = serve(
        [str(BIN / "trading-host"), "serve", "--port", "{port}", "--enable", "gadget", "--enable", "widget"],
        env=with_pythonpath(site),
    )
    spec = server.get("/api/v1/openapi.json").json()
    validate(spec)
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert {"gadget_getItem", "widget_getItem", "gadget_createItem", "widget_createItem"} <= set(operation_ids)
    schemas = spec["components"]["schemas"]
    assert "Item" not in schemas
    assert set(schemas["GadgetItem"]["properties"]) == {"id", "label"}
    assert set(schemas["WidgetItem"]["properties"]) == {"id", "price"}
    gadget_get = spec["paths"]["/api/v1/gadget/items/{item_id}"]["get"]
    ref = gadget_get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/GadgetItem"
    # Schemas the modules share unchanged keep their plain name.
    assert "HTTPValidationError" in schemas


def test_every_served_document_validates(serve: Serve) -> None:
    server = serve([str(BIN / "trading-host"), "serve", "--port", "{port}"])
    for global_version in ("v1", "v2"):
        spec = server.get(f"/api/{global_version}/openapi.json").json()
        validate(spec)
        operation_ids = [
            op["operationId"] for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)
        ]
        assert len(operation_ids) == len(set(operation_ids))
        for path in spec["paths"]:
            assert path.startswith(f"/api/{global_version}/")
