"""autodiff_nb."""
