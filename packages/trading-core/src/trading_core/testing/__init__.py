"""The conformance kit: what a plugin runs in its own tests to prove it honours the contract.

Needs the ``testing`` extra (``pip install 'trading-core[testing]'``); it does not need pytest.
Every check returns a list of problems, each a sentence that says what is wrong and how to fix
it; an empty list means the plugin conforms.

In a plugin's test suite::

    from trading_core.testing import ModuleConformance

    class TestConformance(ModuleConformance):
        distribution = "trading-news"

Anywhere else::

    from trading_core.testing import check_api, check_distribution

    assert check_distribution("trading-news") == []
    assert check_api(NewsApi, settings={"max_results": 10}) == []

To test a version's routes as the host serves them (inside the middleware and exception handlers
it adds), serve it with ``include_api(app, NewsApi(module), prefix="/api/v1/news")`` instead of
``app.include_router``.
"""

from ._api import check_api
from ._app import include_api
from ._conformance import ModuleConformance
from ._distribution import check_distribution, load_apis

__all__ = [
    "ModuleConformance",
    "check_api",
    "check_distribution",
    "include_api",
    "load_apis",
]
