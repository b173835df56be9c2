"""The web server the pages benchmark (bench/pages.py) measures, started as the
Procfile starts it with production settings, a customer signing in through the real
form, and wrk runs against it with bench/pages_check.lua."""

from __future__ import annotations

import http.client
import json
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

from bench.common import BENCH_DIR, ROOT

#: The same app served by granian (WSGI), the same number of workers, for comparison.
GRANIAN = (
    "granian --interface wsgi --host 127.0.0.1 --port $PORT --workers $WEB_CONCURRENCY cloudportal.wsgi:application"
)
#: The header the proxy in front of production adds (SECURE_PROXY_SSL_HEADER).
FORWARDED = {"X-Forwarded-Proto": "https"}
#: The signing keys of every server this process starts, as the web processes of one
#: deployment share theirs: with a key of its own, a second server on the same
#: database and Redis signs the first one's customer out when it signs them in.
SIGNING_KEYS = {"SECRET_KEY": secrets.token_urlsafe(50), "DISCLOSURE_SIGNING_KEY": secrets.token_urlsafe(50)}
CHECK_SCRIPT = BENCH_DIR / "pages_check.lua"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web() -> str:
    """The Procfile's `web` command."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise RuntimeError("the Procfile has no web process")


class Server:
    """The Procfile's web process with production settings on 127.0.0.1:port (0: a
    free one), its cache (and so its sessions) on a Redis database of its own, emptied
    first; `extra_env` for what a benchmark changes (bench/scale.py: the pooler, the
    replica)."""

    def __init__(
        self,
        *,
        db_url: str,
        redis_url: str,
        broker_url: str,
        encryption_keys: str,
        port: int,
        wrk: str = "wrk",
        command_line: str | None = None,
        extra_env: dict | None = None,
    ):
        self.port = port or _free_port()
        self.workers = 2 * (os.cpu_count() or 1) + 1
        self.wrk = wrk
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cloudportal.settings.production",
            **SIGNING_KEYS,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker_url,
            "FIELD_ENCRYPTION_KEYS": encryption_keys,
            "LOG_LEVEL": "WARNING",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.workers),
            **(extra_env or {}),
        }
        self.redis_url = redis_url
        # As the Procfile binds on every interface behind the proxy; here on loopback only.
        self.command_line = command_line or procfile_web().replace("0.0.0.0", "127.0.0.1")  # noqa: S104
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="bench-pages-", suffix=".log")[1])
        self.static_path, self.static_marker = "", ""

    def __enter__(self) -> Server:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        python = Path(sys.executable)
        subprocess.run(
            [str(python), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=self.env, check=True
        )
        self.static_path, self.static_marker = self._static_file()
        env = {**self.env, "PATH": f"{python.parent}:{self.env.get('PATH', '')}"}
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", f"exec {self.command_line}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _headers, _body = self.get("/healthz")
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.3)
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _static_file(self) -> tuple[str, str]:
        """The collected stylesheet's hashed URL (as pages link it) and its first line."""
        from django.conf import settings

        manifest = json.loads((Path(settings.STATIC_ROOT) / "staticfiles.json").read_text())
        name = manifest["paths"]["css/portal.css"]
        first = (Path(settings.STATIC_ROOT) / name).read_text().splitlines()[0].strip()
        return f"/static/{name}", first[:60]

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                pids += [int(pid) for pid in children.read_text().split()]
            except OSError:
                continue
        return sorted(set(pids))

    def workers_rss_kb(self) -> dict[int, int]:
        found = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                found[pid] = int(match.group(1))
        return found

    def drain(self) -> None:
        """Wait until the requests the last wrk run left queued have been served: a
        sync worker still serves those whose client has gone, and they would delay the
        next run. A health check queued behind them answers once they are taken."""
        for _ in range(2):
            self.get("/healthz", timeout=120)

    def get(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: dict | None = None,
        body: str | None = None,
        timeout: float = 30,
    ):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
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
            if morsel.value in ("", '""') or morsel["max-age"] == "0":
                jar.pop(name, None)  # deleted (the sign-in message, once shown)
            else:
                jar[name] = morsel.value


def sign_in(server: Server, email: str, password: str) -> str:
    """Sign in through the real sign-in form; the Cookie header of the signed-in
    browser. Checks that the dashboard then answers."""
    jar: dict[str, str] = {}
    status, headers, body = server.get("/accounts/login/")
    _cookies_take(headers, jar)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or token is None:
        raise RuntimeError(f"GET /accounts/login/ answered {status} without a form")
    origin = f"https://127.0.0.1:{server.port}"
    status, headers, body = server.get(
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
        found = re.findall(r'class="errorlist[^"]*">(.*?)</ul>', body, re.DOTALL)
        errors = [re.sub(r"<[^>]+>", " ", error).strip() for error in found]
        raise RuntimeError(f"signing in as {email} answered {status} without a session: {errors}")
    for _shown in range(2):  # the first shows (and deletes) the "signed in" message
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        status, headers, body = server.get("/", headers={"Cookie": cookie})
        _cookies_take(headers, jar)
        if status != 200 or 'data-page="dashboard"' not in body:
            raise RuntimeError(f"the dashboard of {email} answered {status} after signing in")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def wrk_run(
    server: Server,
    path: str,
    markers: list[str],
    *,
    seconds: int,
    cookie: str | None = None,
    paths: list[str] | None = None,
    connections: int = 32,
    threads: int = 2,
) -> dict:
    """One wrk run; its figures, errors being every response that is not a 200 with
    one of the markers, and wrk's own socket errors and timeouts."""
    server.drain()
    command = [server.wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["--timeout", "5s", "-s", str(CHECK_SCRIPT)]
    for name, value in {**FORWARDED, **({"Cookie": cookie} if cookie else {})}.items():
        command += ["-H", f"{name}: {value}"]
    command += [f"http://127.0.0.1:{server.port}{path}", "--", "|".join(markers)]
    if paths:
        command.append("paths=" + "|".join(paths))
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((row for row in done.stdout.splitlines() if row.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures for {path}:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    socket_errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {
        "path": path,
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": raw["bad_status"] + raw["no_marker"] + socket_errors,
        "not_200": raw["bad_status"],
        "without_marker": raw["no_marker"],
        "socket_errors": socket_errors,
        "timeouts": raw["timeouts"],
    }
