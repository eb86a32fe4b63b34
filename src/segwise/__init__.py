"""segwise: customer segments from transaction logs and customer tables."""

__version__ = "0.1.0"
