"""The command implementations that ``cli.py`` assembles into ``trading-host``."""
