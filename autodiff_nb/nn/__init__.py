"""``torch.nn``: layers, losses and the ``Module`` that holds them, built on the engine's recorded ops.

>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> loss = nn.MSELoss()(model(x), y); loss.backward()   # every parameter's .grad is filled

``parameter.py`` Parameter; ``module.py`` Module; ``container.py`` Sequential; ``linear.py``,
``activation.py``, ``flatten.py``, ``dropout.py``, ``loss.py`` the layers; ``functional.py`` the same as
functions; ``init.py`` the initialisation schemes; ``calls.py`` which module call recorded which node.
"""
from . import functional, init  # noqa: F401
from .activation import ReLU, Sigmoid, Softmax, Tanh  # noqa: F401
from .container import Sequential  # noqa: F401
from .dropout import Dropout  # noqa: F401
from .flatten import Flatten  # noqa: F401
from .linear import Identity, Linear  # noqa: F401
from .loss import CrossEntropyLoss, MSELoss  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
