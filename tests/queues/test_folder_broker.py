"""The embedded folder queue: a worker never takes a message that is still being written."""

import multiprocessing
import time
from queue import Empty

from kombu import Connection

from config import queue
from config.celery import app

BIG = 64 * 2**20  # long enough to write that a reader polling the folder sees the file first


def connect(folder) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    return Connection("filesystem://", transport=queue.FOLDER_TRANSPORT, transport_options=options)


def take_first_message(folder, ready, taken) -> None:
    """A worker's loop in another process: take the first message that shows up."""
    with connect(folder) as connection:
        channel = connection.default_channel
        ready.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                taken.put(len(channel._get("jobs")["body"]))
                return
            except Empty:
                continue
            except Exception as error:  # kombu's own transport: an empty file, not JSON
                taken.put(repr(error))
                return
        taken.put("no message within 60 s")


def test_a_message_is_taken_whole_while_a_worker_polls(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready, taken = context.Event(), context.Queue()
    reader = context.Process(target=take_first_message, args=(tmp_path, ready, taken))
    reader.start()
    try:
        assert ready.wait(60), "the reading process did not start"
        with connect(tmp_path) as connection:
            connection.default_channel._put("jobs", {"body": "x" * BIG})
        assert taken.get(timeout=90) == BIG
    finally:
        reader.join(10)
        reader.kill()
    assert not [path.name for path in tmp_path.iterdir()]  # no leftover partial file


def test_the_embedded_setup_uses_the_folder_queue_that_writes_whole_messages():
    assert queue.transport("filesystem://localhost/") == queue.FOLDER_TRANSPORT
    assert queue.transport("redis://cache:6379/0") is None
    with app.connection_for_write() as connection:  # the tests' settings: the embedded setup
        assert type(connection.default_channel).__module__ == "config.folder_broker"
