"""Building blocks of the OpenAPI document (responses, operations, parameters)."""

from __future__ import annotations

from typing import Any

from api.openapi_schemas import Schema, ref

JSON = "application/json"


def body(schema_name: str, description: str,
         headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response whose body is ``components.schemas[schema_name]``."""
    out: dict[str, Any] = {"description": description,
                           "content": {JSON: {"schema": ref(schema_name)}}}
    if headers:
        out["headers"] = headers
    return out


def errors(by_status: dict[int, str]) -> dict[str, Any]:
    """Error responses: ``{400: "invalid_field, ..."}`` -> ``{"400": <Error response>}``."""
    return {str(status): body("Error", f"Error codes: {codes}.")
            for status, codes in by_status.items()}


def operation(op_id: str, tag: str, summary: str, responses: dict[str, Any], *,
              description: str | None = None, parameters: list[Schema] | None = None,
              request: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary,
                           "responses": responses}
    if description:
        out["description"] = description
    if parameters:
        out["parameters"] = parameters
    if request:
        out["requestBody"] = request
    return out


def query(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


