import io
import logging
import logging.config

import pytest
from django.conf import settings

from config import loader, logs
from tests.logs.hec_server import HecServer


@pytest.fixture
def hec():
    server = HecServer().start()
    yield server
    server.stop()


@pytest.fixture
def use_logging():
    """Configure logging as settings.py does, from these VIDEOSHARE_* variables; the test run's
    own configuration comes back afterwards. Gives the root handlers by name, the console's
    stream swapped for a buffer the test can read."""

    def use(environ: dict[str, str], **splunk_options) -> dict[str, logging.Handler]:
        config = logs.logging_config(loader.load(environ=environ))
        if splunk_options:
            config["handlers"]["splunk"].update(splunk_options)
        logging.config.dictConfig(config)
        handlers = {handler.name: handler for handler in logging.getLogger().handlers}
        handlers["console"].setStream(io.StringIO())
        return handlers

    yield use
    logging.config.dictConfig(settings.LOGGING)  # closes ours: their events are sent first
