from .central import mean, median, mode
from .spread import variance
