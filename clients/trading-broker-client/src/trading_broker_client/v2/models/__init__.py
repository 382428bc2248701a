"""Contains all the data models used in inputs/outputs"""

from .account_balance_v2 import AccountBalanceV2
from .error_message import ErrorMessage
from .execution_report_v2 import ExecutionReportV2
from .execution_v2 import ExecutionV2
from .http_validation_error import HTTPValidationError
from .open_position_v2 import OpenPositionV2
from .order_modification_v2 import OrderModificationV2
from .order_status import OrderStatus
from .order_type import OrderType
from .placed_order_v2 import PlacedOrderV2
from .pre_order_v2 import PreOrderV2
from .problem import Problem
from .side import Side
from .status_change_v2 import StatusChangeV2
from .validation_error import ValidationError
from .validation_error_context import ValidationErrorContext

__all__ = (
    "AccountBalanceV2",
    "ErrorMessage",
    "ExecutionReportV2",
    "ExecutionV2",
    "HTTPValidationError",
    "OpenPositionV2",
    "OrderModificationV2",
    "OrderStatus",
    "OrderType",
    "PlacedOrderV2",
    "PreOrderV2",
    "Problem",
    "Side",
    "StatusChangeV2",
    "ValidationError",
    "ValidationErrorContext",
)
