"""Contains all the data models used in inputs/outputs"""

from .account_balance import AccountBalance
from .error_message import ErrorMessage
from .execution_report import ExecutionReport
from .http_validation_error import HTTPValidationError
from .open_position import OpenPosition
from .order_modification import OrderModification
from .order_status import OrderStatus
from .order_type import OrderType
from .placed_order import PlacedOrder
from .pre_order import PreOrder
from .problem import Problem
from .side import Side
from .validation_error import ValidationError
from .validation_error_context import ValidationErrorContext

__all__ = (
    "AccountBalance",
    "ErrorMessage",
    "ExecutionReport",
    "HTTPValidationError",
    "OpenPosition",
    "OrderModification",
    "OrderStatus",
    "OrderType",
    "PlacedOrder",
    "PreOrder",
    "Problem",
    "Side",
    "ValidationError",
    "ValidationErrorContext",
)
