"""``torch.distributions``: sample from, and score values under, common distributions.

``log_prob`` is made of engine ops, so it has a gradient in the parameters (score-function and
maximum-likelihood examples); ``Normal`` and ``Uniform`` also have ``rsample``, a differentiable draw.
Draws come from the package's ``Generator`` (``manual_seed`` makes them repeatable).
"""
from . import multinomial  # noqa: F401  (from autodiff_nb.distributions import multinomial, as the textbook)
from .bernoulli import Bernoulli  # noqa: F401
from .categorical import Categorical  # noqa: F401
from .distribution import Distribution  # noqa: F401
from .multinomial import Multinomial  # noqa: F401
from .normal import Normal  # noqa: F401
from .uniform import Uniform  # noqa: F401
