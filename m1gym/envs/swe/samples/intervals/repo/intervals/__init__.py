from .merge import merge, total_length
