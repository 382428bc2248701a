"""``python -m trading_broker``: like ``trading-broker``, an alias of ``trading-host broker``."""

from ._cli import main

if __name__ == "__main__":
    main()
