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
        self.ahead: queue.Queue = queue.Queue()
        # a slot is taken before an item is read, not after: at most `depth` items exist
        # ahead of the consumer (a bounded queue alone lets one more wait to be put)
        self.slots = threading.Semaphore(depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="read-ahead", daemon=True)
        self.thread.start()

    def _produce(self) -> None:
        try:
            while True:
                self.slots.acquire()
                if self.stop.is_set():
                    return
                item = next(self.items, _END)
                self.ahead.put((item, None))
                if item is _END:
                    return
                del item  # the consumer's now
        except BaseException as exc:  # handed to the consumer
            self.ahead.put((_END, exc))

    def __iter__(self):
        while True:
            item, error = self.ahead.get()
            if error is not None:
                raise error
            if item is _END:
                return
            self.slots.release()  # the next one is read while this one is used
            yield item
            del item

    def close(self) -> None:
        self.stop.set()
        self.slots.release()  # unblock a producer waiting for a slot, then let it end
        self.thread.join()
