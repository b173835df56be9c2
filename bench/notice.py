"""Statement notice benchmark (SPEC §9): a notice to 1M customers through a local SMTP
server, each customer exactly once, also with a worker killed mid-run.

- Customers, kept across runs: BENCH_NOTICE_CUSTOMERS (default 1,000,000) active
  accounts with a verified address, one in five in French.
- The SMTP server: aiosmtpd (bench/smtp_counter.py), BENCH_NOTICE_SMTP_PROCESSES (2)
  processes sharing one port as a mail server's processes do, whose handler only
  counts messages per recipient; their counts are added up at the end, so duplicates
  are counted where they would land, whichever process got them.
- The workers: BENCH_NOTICE_WORKERS (4) real Celery workers (solo pool, one process
  each) on a Redis broker of their own, sending with the portal's code (chunks of
  EMAIL_CHUNK_SIZE, 500 here, over one SMTP connection each; EMAIL_SENDERS = the
  number of workers, so each works one chain of chunks).
- Each run: the outbox is emptied, a material version is stored as published, then
  `statement_notices_queue` (the body of the task publishing queues) is timed in this
  process: one INSERT ... SELECT of every customer's row. It starts the
  senders through the broker. Delivery is timed from the end of
  queuing to the last message counted by the server; this process stands in for beat
  and calls `emails_send_pending` every BENCH_NOTICE_BEAT_SECONDS (10).
- Run 1: every worker throughout. Run 2: one worker is killed with SIGKILL once 30 %
  of the messages have arrived and started again 5 s later, as a process manager
  would; the chunk it held goes out after its claim expires (EMAIL_CLAIM_SECONDS, 20
  here).
- Baseline, same run: smtplib sending 20,000 prebuilt messages over one connection
  to the same server, no database: the rate the SMTP server itself allows.
- Transactional before bulk: in run 1, a newcomer signs up through allauth's form
  (Django's test client in this process: the adapter queues the verification email,
  which is handed to the workers after the commit) when 5 %, 10 % and 15 % of the
  notices have arrived, the rest still pending; each verification is timed from its
  outbox row's creation to its arrival at the SMTP server (the server's clock, same
  machine). Beside it, the same three times with an empty outbox and idle workers,
  just before the notices are queued.

Run: `python -m bench.notice [--customers N] [--no-kill]`.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from bench import common, data
from bench.common import Result, say, timed
from bench.smtp_counter import WATCHED_DOMAIN, SMTPServer
from bench.workers import celery_control, processes_stop, worker_env, worker_start, workers_wait

NAME = "notice"
DB_NAME = "cloudportal_bench_notice"
BROKER_URL = os.environ.get("BENCH_NOTICE_BROKER_URL", "redis://127.0.0.1:6379/12")
EMAIL_DOMAIN = "notice.bench.test"
CHUNK_SIZE = common.env_int("BENCH_NOTICE_CHUNK", 500)
CLAIM_SECONDS = common.env_int("BENCH_NOTICE_CLAIM_SECONDS", 20)
BEAT_SECONDS = common.env_int("BENCH_NOTICE_BEAT_SECONDS", 10)
WORKERS = common.env_int("BENCH_NOTICE_WORKERS", 4)
SMTP_PROCESSES = common.env_int("BENCH_NOTICE_SMTP_PROCESSES", 2)
KILL_AT = 0.3
RESTART_AFTER = 5  # seconds, as a process manager would
TARGET_QUEUE_SECONDS = 60
TARGET_RATE = 1_000
BASELINE_MESSAGES = 20_000
#: Sign-ups while the notices go out (share of them arrived), and the target for each.
VERIFY_AT = (0.05, 0.10, 0.15)
TARGET_VERIFY_SECONDS = 5
VERIFY_TIMEOUT = 30

# Read by the settings when Django starts (common.django_setup): this process
# publishes tasks to the workers' broker instead of running them in-process.
os.environ["CELERY_BROKER_URL"] = BROKER_URL
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
os.environ["EMAIL_CHUNK_SIZE"] = str(CHUNK_SIZE)
os.environ["EMAIL_SENDERS"] = str(WORKERS)


def outbox_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # TRUNCATE fires no row trigger: published versions can go with the bench data.
        cursor.execute("TRUNCATE core_outboundemail, policies_statementacceptance, policies_statementversion CASCADE")
    common.vacuum_analyze("core_outboundemail", checkpoint=True)


class Workers:
    def __init__(self, smtp_port: int, workdir: Path) -> None:
        self.control = celery_control("bench-notice-control", BROKER_URL)
        env = worker_env(
            DB_NAME,
            BROKER_URL,
            TEST_EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            EMAIL_CHUNK_SIZE=str(CHUNK_SIZE),
            EMAIL_SENDERS=str(WORKERS),
            EMAIL_CLAIM_SECONDS=str(CLAIM_SECONDS),
        )
        self.env, self.workdir = env, workdir
        self.names: list[str] = []
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        for i in range(WORKERS):
            self._start(i)
        workers_wait(self.control, self.names, self.processes, self.logs)

    def _start(self, i: int) -> None:
        name = f"bench-notice-{i}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        log = self.workdir / f"worker-{name.split('@')[0]}.log"
        # Without -Q, as a one-machine install starts it: every queue (transactional, bulk, default).
        process = worker_start(name, env=self.env, log=log, pool="solo")
        if i < len(self.processes):
            self.processes[i], self.names[i], self.logs[i] = process, name, log
        else:
            self.processes.append(process)
            self.names.append(name)
            self.logs.append(log)

    def kill_one(self) -> None:
        self.processes[0].send_signal(signal.SIGKILL)
        self.processes[0].wait()

    def restart_killed(self) -> None:
        """What the process manager does for a worker that died."""
        self._start(0)

    def stop(self) -> None:
        processes_stop(self.processes)
        self.control.close()


class Verifications:
    """Newcomers signing up through allauth's form; each verification email timed from
    its outbox row's creation (the queuing) to its arrival at the SMTP server."""

    def __init__(self, smtp: SMTPServer) -> None:
        self.smtp = smtp
        self.waiting: dict[str, float] = {}
        self.seconds: list[float | None] = []

    def sign_up(self) -> None:
        from django.test import Client

        from cloudportal.core.models import OutboundEmail

        address = f"v-{uuid.uuid4().hex[:12]}@{WATCHED_DOMAIN}"
        password = f"bench-{uuid.uuid4().hex}"
        form = {"email": address, "password1": password, "password2": password, "accept_statement": "on"}
        Client(SERVER_NAME="localhost").post("/accounts/signup/", form)
        self.waiting[address] = OutboundEmail.objects.get(to=address).created_at.timestamp()

    def sign_up_at(self, *, share: float) -> None:
        """Sign up if the next share of VERIFY_AT has been delivered."""
        if len(self.seconds) < len(VERIFY_AT) and share >= VERIFY_AT[len(self.seconds)]:
            self.sign_up()

    def collect(self) -> bool:
        """Note the verifications that have arrived, give up those too late; True while
        one is still awaited."""
        arrived = self.smtp.arrivals()
        for address, queued_at in list(self.waiting.items()):
            if address in arrived:
                self.seconds.append(arrived[address] - queued_at)
                del self.waiting[address]
            elif time.time() - queued_at > VERIFY_TIMEOUT:
                self.seconds.append(None)
                del self.waiting[address]
        return bool(self.waiting)

    def one(self) -> float | None:
        """Sign up and wait for the verification email."""
        self.sign_up()
        while self.collect():
            time.sleep(0.05)
        return self.seconds[-1]

    @staticmethod
    def newcomers_delete() -> None:
        from accounts.models import User

        User.objects.filter(email__endswith="@" + WATCHED_DOMAIN).delete()


def outbox_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM core_outboundemail GROUP BY status")
        return dict(cursor.fetchall())


def notice_run(customers: int, workdir: Path, *, kill: bool) -> dict:
    from django.db import connection

    from cloudportal.outbox import emails_send_pending
    from policies.services import statement_notices_queue

    outbox_reset()
    smtp = SMTPServer(workdir, SMTP_PROCESSES)
    workers = Workers(smtp.port, workdir)
    verify = Verifications(smtp) if not kill else None
    try:
        version = data.statement_version_published()
        if verify is not None:
            empty = [verify.one() for _ in VERIFY_AT]
            say(f"verification emails, empty outbox: {_seconds(empty)}")
            verify.seconds = []
        with timed() as queue:
            queued = statement_notices_queue(version_id=version.pk)
        say(f"queued {queued:,} notices in {queue.seconds:.1f} s")
        started = time.monotonic()
        killed_at = None
        killed_time = None
        restarted = False
        last_beat = started
        last_seen, last_change = 0, started
        timeout = max(600, customers / 200)
        while (received := smtp.messages() - len(smtp.arrivals())) < queued:
            now = time.monotonic()
            if verify is not None and not verify.collect():
                verify.sign_up_at(share=received / queued)
            if received != last_seen:
                last_seen, last_change = received, now
            if kill and killed_at is None and received >= queued * KILL_AT:
                workers.kill_one()
                killed_at, killed_time = received, now
                say(f"killed a worker with SIGKILL after {received:,} messages")
            if killed_time is not None and not restarted and now - killed_time >= RESTART_AFTER:
                workers.restart_killed()
                restarted = True
            if now - last_beat >= BEAT_SECONDS:
                emails_send_pending.delay()  # what beat does every minute
                last_beat = now
            if now - last_change > timeout / 4 or now - started > timeout:
                say(f"stopped waiting: {received:,} of {queued:,} received")
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        while verify is not None and verify.collect():
            time.sleep(0.05)
        time.sleep(2)  # anything sent twice would arrive now
        final = smtp.stop()
        connection.close()
        counts = outbox_counts()
    finally:
        workers.stop()
        if smtp.running():
            smtp.stop()
        Verifications.newcomers_delete()
    delivered = final["recipients"]
    say(
        f"{'with a worker killed: ' if kill else ''}{delivered:,} customers reached in {seconds:.1f} s = "
        f"{delivered / seconds:,.0f} emails/s; {final['duplicates']} duplicates; outbox {counts}"
    )
    return {
        "queued": queued,
        "queue_seconds": round(queue.seconds, 2),
        "delivery_seconds": round(seconds, 2),
        "messages": final["messages"],
        "customers_reached": delivered,
        "duplicates": final["duplicates"],
        "duplicate_examples": final["duplicate_examples"],
        "emails_per_s": round(delivered / seconds),
        "killed_after": killed_at,
        "outbox": counts,
        **(
            {"verification_empty_seconds": empty, "verification_backlog_seconds": verify.seconds}
            if verify is not None
            else {}
        ),
    }


def _seconds(times: list[float | None]) -> str:
    return ", ".join("not arrived" if t is None else f"{t:.2f} s" for t in times)


def smtp_baseline(workdir: Path, messages: int = BASELINE_MESSAGES) -> float:
    """Messages/s that plain smtplib gets from the same server over one connection."""
    smtp = SMTPServer(workdir, processes=1)
    prebuilt = []
    for i in range(messages):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "privacy@localhost", f"b{i}@{EMAIL_DOMAIN}", "Notice"
        message.set_content("Our privacy statement changes.")
        prebuilt.append((message["To"], message.as_bytes()))
    try:
        with timed() as t, smtplib.SMTP("127.0.0.1", smtp.port) as client:
            for to, data in prebuilt:
                client.sendmail("privacy@localhost", [to], data)
    finally:
        smtp.stop()
    return messages / t.seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=common.env_int("BENCH_NOTICE_CUSTOMERS", 1_000_000))
    parser.add_argument("--no-kill", action="store_true", help="skip the run with a worker killed")
    args = parser.parse_args(argv)

    common.django_setup(DB_NAME)
    data.customers_verified_ensure(args.customers, domain=EMAIL_DOMAIN)
    workdir = Path(tempfile.mkdtemp(prefix="cloudportal-bench-notice-"))
    common.load_warn()
    baseline_rate = smtp_baseline(workdir)
    say(f"baseline: smtplib alone, one connection, no database: {baseline_rate:,.0f} messages/s")
    runs = {"plain": notice_run(args.customers, workdir, kill=False)}
    if not args.no_kill:
        runs["killed"] = notice_run(args.customers, workdir, kill=True)
    outbox_reset()

    size = f"{args.customers / 1e6:g}M" if args.customers >= 1_000_000 else f"{args.customers:,}"
    baseline = f"{baseline_rate:,.0f} msg/s (smtplib alone)"
    results = []
    for key, run in runs.items():
        label = "notice" if key == "plain" else "notice, a worker SIGKILLed"
        complete = run["customers_reached"] == args.customers and run["queued"] == args.customers
        results += [
            Result(
                what=f"{label}: queue {size} notices",
                figure=f"{run['queue_seconds']:.1f} s",
                baseline="—",
                target=f"< {TARGET_QUEUE_SECONDS} s",
                passed=run["queue_seconds"] < TARGET_QUEUE_SECONDS,
                values={"seconds": run["queue_seconds"], "queued": run["queued"]},
            ),
            Result(
                what=f"{label}: delivery",
                figure=f"{run['emails_per_s']:,} emails/s",
                baseline=baseline,
                target=f"≥ {TARGET_RATE:,} emails/s",
                passed=run["emails_per_s"] >= TARGET_RATE,
                values={"emails_per_s": run["emails_per_s"], "seconds": run["delivery_seconds"]},
            ),
            Result(
                what=f"{label}: customers reached, duplicates",
                figure=f"{run['customers_reached']:,} of {args.customers:,}, {run['duplicates']} duplicates",
                baseline="—",
                target="all, 0 duplicates",
                passed=complete and run["duplicates"] == 0,
                values={"reached": run["customers_reached"], "duplicates": run["duplicates"]},
            ),
        ]
    plain = runs["plain"]
    backlog, empty = plain["verification_backlog_seconds"], plain["verification_empty_seconds"]
    complete = len(backlog) == len(VERIFY_AT) and None not in backlog
    pending = f"{1 - VERIFY_AT[-1]:.0%}"
    results.append(
        Result(
            what=f"verification email behind {size} notices (≥ {pending} pending): queuing to arrival",
            figure=(f"median {statistics.median(backlog):.2f} s " if complete else "") + f"({_seconds(backlog)})",
            baseline=f"empty outbox: {_seconds(empty)}",
            target=f"< {TARGET_VERIFY_SECONDS} s each",
            passed=complete and max(backlog) < TARGET_VERIFY_SECONDS,
            values={"backlog_seconds": backlog, "empty_seconds": empty},
        )
    )
    details = {
        "customers": args.customers,
        "chunk_size": CHUNK_SIZE,
        "workers": WORKERS,
        "claim_seconds": CLAIM_SECONDS,
        "smtp_processes": SMTP_PROCESSES,
        "smtp_baseline_messages_per_s": round(baseline_rate),
        "runs": runs,
        "server": common.server_info(),
    }
    path = common.results_write(NAME, results, details)
    common.table_print(results, title=f"Notice benchmark ({path.relative_to(common.ROOT)})")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
