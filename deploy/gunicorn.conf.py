"""gunicorn's configuration: `gunicorn -c deploy/gunicorn.conf.py` (README, "Production").

Every value can be changed from the environment (gunicorn also reads `GUNICORN_CMD_ARGS`).
The access and error logs are JSON lines like the application's, with the request's id, and
mask citizen ID numbers (a search URL carries one in its query string).
"""

import multiprocessing
import os

from operations.logs import JsonFormatter  # noqa: F401  (the formatter named below must import)

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request slower than this is killed and its worker replaced (imports run as one request).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Workers are replaced after this many requests (spread by the jitter), so a slow leak cannot
# grow for ever.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# The proxies whose X-Forwarded-Proto/-For gunicorn believes (the application reads the
# client's address itself, kernel/proxy.py).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "replenish-web"
# gunicorn's control socket (gunicornc) is one file per user by default: two servers on one
# machine would share it. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
_format = os.environ.get("LOG_FORMAT", "json")
_handler = {
    "class": "logging.StreamHandler",
    "formatter": "json" if _format == "json" else "plain",
    "filters": ["request_id", "mask_id_numbers"],
}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "operations.logs.RequestId"},
        "mask_id_numbers": {"()": "operations.logs.MaskIdNumbers"},
    },
    "formatters": {
        "json": {"()": "operations.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
    },
    "handlers": {
        "error": {**_handler, "stream": "ext://sys.stderr"},
        "access": {**_handler, "stream": "ext://sys.stdout"},
    },
    "root": {"level": "INFO", "handlers": ["error"]},
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}
