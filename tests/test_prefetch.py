"""The read-ahead thread reads one batch ahead of the loader, never more (memory stays bounded
by the batch size), and a read error reaches the loader where the file failed."""

import threading
import time

import pytest

from gis.loader.prefetch import ReadAhead


def test_reads_at_most_one_item_ahead_of_the_consumer():
    produced = []
    lock = threading.Lock()

    def items():
        for i in range(20):
            with lock:
                produced.append(i)
            yield i

    ahead = ReadAhead(items())
    got = []
    for item in ahead:
        time.sleep(0.01)  # the consumer is the slow side: the producer waits for it
        with lock:
            assert len(produced) <= len(got) + 2  # this one and the next
        got.append(item)
    ahead.close()
    assert got == list(range(20))


def test_a_read_error_reaches_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise OSError("file cut short at row 3")

    ahead = ReadAhead(items())
    got = []
    with pytest.raises(OSError, match="row 3"):
        for item in ahead:
            got.append(item)
    ahead.close()
    assert got == [1, 2]


def test_close_ends_a_producer_that_waits_for_the_consumer():
    ahead = ReadAhead(iter(range(1000)))
    first = next(iter(ahead))
    ahead.close()
    assert first == 0
    assert not ahead.thread.is_alive()
