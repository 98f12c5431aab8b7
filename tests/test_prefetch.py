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


def test_chunks_made_in_the_prepare_thread_arrive_in_order_and_an_error_stops_the_copy(conn):
    """BackgroundCopy.put_later: chunks made in their own thread (slowest first) are copied
    in the order they were queued, and a chunk that fails to be made fails the COPY, raised
    in the loading thread."""
    from gis.loader.copier import BackgroundCopy

    def chunk(i: int) -> bytes:
        time.sleep(0.02 * max(5 - i, 0))
        return f"{i}\n".encode()

    conn.execute("CREATE TABLE IF NOT EXISTS data._prefetch_order (i integer)")
    try:
        with conn.transaction():
            copier = BackgroundCopy(conn, "_prefetch_order", ["i"])
            for i in range(5):
                copier.put_later(chunk, i)
            copier.close()
            rows = conn.execute("SELECT i FROM data._prefetch_order").fetchall()
        assert [r["i"] for r in rows] == list(range(5))

        def broken() -> bytes:
            raise ValueError("row 7: geometry could not be written")

        with pytest.raises(ValueError, match="row 7"), conn.transaction():
            copier = BackgroundCopy(conn, "_prefetch_order", ["i"])
            copier.put_later(chunk, 9)
            copier.put_later(broken)
            copier.put_later(chunk, 10)
            copier.close()
        assert conn.execute("SELECT count(*) AS n FROM data._prefetch_order").fetchone()["n"] == 5
    finally:
        conn.execute("DROP TABLE data._prefetch_order")
