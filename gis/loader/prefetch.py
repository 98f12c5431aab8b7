"""Read ahead in a thread: the next batch is read (GDAL, Arrow and shapely's WKB parsing
release the GIL) while the loading thread checks the current one and the COPY thread streams
the previous one, so reading, checking and PostgreSQL's ingest overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

_END = object()


class ReadAhead:
    """``items`` consumed in a background thread, at most ``depth`` ahead (bounded memory);
    an exception of the producer is raised in the consumer where the producer failed.
    close() ends the thread early (the consumer failed or stopped)."""

    def __init__(self, items: Iterator, depth: int = 1):
        self.items = items
        self.ahead: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        try:
            for item in self.items:
                if self.stop.is_set():
                    return
                self.ahead.put((item, None))
            self.ahead.put((_END, None))
        except BaseException as exc:  # handed to the consumer
            self.ahead.put((_END, exc))

    def __iter__(self):
        while True:
            item, error = self.ahead.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item

    def close(self) -> None:
        self.stop.set()
        while self.thread.is_alive():  # unblock a producer waiting to put, then let it end
            try:
                self.ahead.get(timeout=0.1)
            except queue.Empty:
                pass
        self.thread.join()
