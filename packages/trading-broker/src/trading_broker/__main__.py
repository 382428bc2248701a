"""``python -m trading_broker new-key ACCOUNT``: create an API key for broker API v2.

Prints the token once (give it to the client) and the ``[modules.broker]`` line that configures
its hash; the token itself is stored nowhere.
"""

from __future__ import annotations

import sys

from ._auth import generate_api_key

USAGE = "usage: python -m trading_broker new-key ACCOUNT"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "new-key" or not args[1].strip():
        print(USAGE, file=sys.stderr)
        return 2
    account = args[1].strip()
    token, digest = generate_api_key()
    print(f"token (shown once, give it to the client): {token}")
    print("add to the api_keys of [modules.broker] in trading.toml:")
    print(f'  {{account = "{account}", sha256 = "{digest}"}}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
