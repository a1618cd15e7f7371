"""``torch.utils``: only ``data`` (datasets and loaders) here."""
from . import data  # noqa: F401
