"""``python -m trading_broker``: the ``trading-broker`` command."""

from ._cli import main

if __name__ == "__main__":
    main()
