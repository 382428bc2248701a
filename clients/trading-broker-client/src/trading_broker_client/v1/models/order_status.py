from enum import StrEnum


class OrderStatus(StrEnum):
    CANCELED = "canceled"
    FILLED = "filled"
    REJECTED = "rejected"
    WORKING = "working"

    def __str__(self) -> str:
        return str(self.value)
