"""Request and response shapes of the REST API (pydantic v2). Codes are the catalogue's."""
