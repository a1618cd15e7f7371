"""``torch.optim``: optimizers that update parameters from their ``.grad``.

>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> opt.zero_grad(); loss.backward(); opt.step()
"""
from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .sgd import SGD  # noqa: F401
