"""Portal pages (server-rendered, htmx for partial updates) over the same services and selectors.

``ggzy.urls`` points ``handler404``/``handler500`` at :func:`not_found` and :func:`server_error`.
"""

from ggzy.web.views.portal import home, not_found, server_error

__all__ = ["home", "not_found", "server_error"]
