from enum import StrEnum


class SymbolInfoOutFormat(StrEnum):
    PRICE = "price"
    VOLUME = "volume"

    def __str__(self) -> str:
        return str(self.value)
