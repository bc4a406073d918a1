"""gunicorn settings for the web process, from VideoShare's configuration."""

from config import loader

_config = loader.load()

bind = f"0.0.0.0:{loader.as_int(_config, 'web_port')}"
workers = loader.as_int(_config, "web_workers")
worker_class = "gthread"
threads = 4
# Large uploads on slow links take a while; the request itself is not bounded by this.
timeout = 120
accesslog = "-"
