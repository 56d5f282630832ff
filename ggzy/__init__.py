"""OpenGGZY — an integrated public resource trading platform (公共资源交易平台)."""

__version__ = "0.1.0"
