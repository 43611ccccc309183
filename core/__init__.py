"""Shared domain of funrun: settings, database, models and services.

Imports only the standard library and third-party domain libraries (SQLAlchemy, pydantic, Pillow,
qrcode, Jinja2). Never imports flows, bot, admin, workers or app.
"""
