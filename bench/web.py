"""The web server a benchmark measures over HTTP, and wrk against it (a minimal helper).

`WebServer` starts the Procfile's `web` command (gunicorn) with production settings on
a free loopback port, on the database URL given (straight to PostgreSQL, or through
PgBouncer with DATABASE_POOLER=pgbouncer); `sign_in` signs a customer in through the
real form; `wrk_run` runs wrk on a page with that customer's cookie and reads its
figures from wrk's own report.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.common import ROOT

#: The header the proxy in front of production adds (SECURE_PROXY_SSL_HEADER).
FORWARDED = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(kind: str) -> str:
    """The Procfile's command for the process `kind` (web, worker-bulk, ...)."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{kind}:"):
            return line.removeprefix(f"{kind}:").strip()
    raise RuntimeError(f"the Procfile has no {kind} process")


class WebServer:
    """The Procfile's web process with production settings on 127.0.0.1."""

    def __init__(self, *, db_url: str, redis_url: str, encryption_keys: str, workers: int, extra_env: dict) -> None:
        self.port = free_port()
        self.workers = workers
        self.redis_url = redis_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cloudportal.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DISCLOSURE_SIGNING_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "FIELD_ENCRYPTION_KEYS": encryption_keys,
            "LOG_LEVEL": "WARNING",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            **extra_env,
        }
        # As the Procfile binds on every interface behind the proxy; here on loopback only.
        self.command_line = procfile_command("web").replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - replaced
        self.log = Path(tempfile.mkstemp(prefix="bench-web-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> WebServer:
        # As the Procfile's release process does: the pages link the collected files.
        manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(manage, cwd=ROOT, env=self.env, check=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", f"exec {self.command_line}"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.get("/accounts/login/")[0] == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text()[-4000:]
                self.__exit__()
                raise RuntimeError(f"the web server did not start:\n{log}")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)

    def get(self, path: str, *, method: str = "GET", headers: dict | None = None, body: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={**FORWARDED, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.headers, response.read().decode(errors="replace")
        finally:
            conn.close()


def _cookies_take(headers, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(value)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def sign_in(server: WebServer, email: str, password: str) -> str:
    """Sign in through the real form; the Cookie header of the signed-in browser."""
    jar: dict[str, str] = {}
    status, headers, body = server.get("/accounts/login/")
    _cookies_take(headers, jar)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise RuntimeError(f"GET /accounts/login/ answered {status} without a form")
    origin = f"https://127.0.0.1:{server.port}"
    status, headers, _body = server.get(
        "/accounts/login/",
        method="POST",
        headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Referer": f"{origin}/accounts/login/",
        },
        body=urlencode({"csrfmiddlewaretoken": token.group(1), "login": email, "password": password}),
    )
    _cookies_take(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"signing in as {email} answered {status} without a session")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk_run(server: WebServer, path: str, *, cookie: str, seconds: int, connections: int, threads: int = 2) -> dict:
    """One wrk run on `path`; requests/s, latency percentiles, and the responses that
    were not 2xx/3xx or failed (errors)."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["--timeout", "5s", "-H", f"Cookie: {cookie}"]
    for name, value in FORWARDED.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{server.port}{path}")
    report = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", report)
    requests = re.search(r"(\d+) requests in", report)
    if rps is None or requests is None:
        raise RuntimeError(f"wrk gave no figures for {path}:\n{report}")
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", report, re.MULTILINE)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return {
        "path": path,
        "requests": int(requests.group(1)),
        "rps": float(rps.group(1)),
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "errors": errors,
    }
