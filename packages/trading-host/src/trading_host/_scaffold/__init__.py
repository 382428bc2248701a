"""``trading-host new-module``: a plugin package written from the template shipped in this wheel."""
