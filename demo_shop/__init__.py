"""Prodbug's demo shop: a small standalone WSGI service (no Django) to debug.

The application is :data:`demo_shop.app.app`; see :mod:`demo_shop.app` for its endpoints
and settings, and :mod:`demo_shop.levels` for how log levels reach every worker process.
Importing this package does nothing: the app configures logging when it is loaded.
"""
