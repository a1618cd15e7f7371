"""``autodiff_nb.lax.stop_gradient``, named as in ``jax.lax``."""
from .func import stop_gradient

__all__ = ["stop_gradient"]
