"""News API versions: one package per major version, each exporting its API class."""
