"""``torch.utils.data``: ``Dataset``, ``TensorDataset``, ``DataLoader`` and their samplers."""
from .collate import default_collate  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from .dataset import Dataset, TensorDataset  # noqa: F401
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler  # noqa: F401
