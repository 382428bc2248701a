"""``uvicorn trading_host.main:app``: the app the configuration and environment describe.

``GLOBAL_VERSION=v2 uvicorn trading_host.main:app`` serves global v2 only;
``ENABLED_MODULES=broker MODULE_VERSION=v1 uvicorn trading_host.main:app --port 8002`` serves
broker v1 alone at ``/v1/...``. A configuration that cannot be served is reported, every problem
at once, and the process exits with status 2 before serving anything.
"""

import gc
import sys

from ._problems import ConfigError
from ._serve._factory import AppFactory
from ._wrappers._redaction import redact_server_logs

redact_server_logs()

try:
    app = AppFactory().create_app()
except ConfigError as error:
    print(error, file=sys.stderr)
    raise SystemExit(2) from None

# What the start made (the modules, their routes and models: about 130,000 objects with the broker
# and the datafeed) lives as long as the process. Frozen, it is left out of the collector's full
# passes, which examined it all again as requests came: one pass under a stream of orders took 120 to
# 180 ms on a 2-CPU machine, a stall of every request in flight; 2.5 ms once frozen.
gc.freeze()
