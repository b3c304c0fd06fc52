"""The OpenAPI schema documents every error answer of every operation, with the error body of
api/errors.py, and the token credential."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
            "description": "Each field at fault (`field` null: the request as a whole).",
        },
    },
    "required": ["detail", "errors"],
}
ANSWERS = {
    "400": "The request is invalid: the body is not JSON, or a field breaks a rule.",
    "401": "No credential, or a wrong or expired one.",
    "403": "The credential may not use this operation.",
    "404": "No such object for this credential.",
    "413": "The request body is larger than the server takes.",
    "429": "Too many requests (or too many failed credentials) from this client: retry later.",
}


def document_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = ["401", "403", "429"]
            if method in ("post", "put", "patch"):
                codes += ["400", "413"]
            if "{" in path:
                codes.append("404")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": ANSWERS[code], "content": body})
    return result


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ThrottledTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a credential made with `manage.py api_token USERNAME`.",
        }
