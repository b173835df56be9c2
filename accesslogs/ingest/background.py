"""Running an iterator one item ahead in a thread: the database works while Python
parses, and Arrow works while COPY sends."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def in_background(items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, produced one ahead in a thread (the parser's chunks, the
    columnar path's segments and COPY text); its exceptions are re-raised here."""
    pipe: queue.Queue = queue.Queue(maxsize=2)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                pipe.put(item)
            pipe.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consuming thread
            pipe.put(exc)

    worker = threading.Thread(target=produce, name="ingest-parser", daemon=True)
    worker.start()
    try:
        while True:
            item = pipe.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                pipe.get(timeout=0.1)
        worker.join()
