"""Documents built from routers and folders: OpenAPI, AsyncAPI, Swagger UI and ReDoc pages, module guides."""
