"""The browser-test fixtures (served app, headless Chromium) shared with tests/app."""
from tests.app.conftest import browser, logged_in, page, server  # noqa: F401
