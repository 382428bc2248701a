"""An example third-party Trading API plugin: the ``news`` module (market headlines).

Copy this package to make your own plugin: see README.md.
"""

from ._models import Headline
from ._module import NewsModule, NewsSettings
from ._service import NewsService
from ._version import __version__

__all__ = ["Headline", "NewsModule", "NewsService", "NewsSettings", "__version__"]
