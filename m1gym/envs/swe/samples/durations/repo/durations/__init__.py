from .parse import parse_duration
from .format import format_duration
