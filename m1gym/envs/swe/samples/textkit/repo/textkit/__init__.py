from .slug import slugify
from .case import title_case, snake_case
