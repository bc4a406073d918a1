"""The fault tests' own servers stop and start on the same port, and the SMTP server can hold a
message on the wire."""

import smtplib
import socket
import time

import kombu
import psycopg
import pytest
import redis

from tests.faults.servers import ScratchPostgres, ScratchRabbitMQ, ScratchRedis, StallingSMTP
from tests.servers import reachable


@pytest.fixture
def smtp():
    server = StallingSMTP().start()
    yield server
    server.stop()


def test_scratch_redis_restarts_on_its_port_empty():
    server = ScratchRedis().start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("job", "1")
        server.stop()
        assert not reachable("127.0.0.1", server.port)
        assert not server.answers()
        server.start()
        assert server.answers()
        assert client.get("job") is None  # nothing kept: a broker restart loses its messages
    finally:
        server.close()


def test_scratch_postgres_restarts_on_its_port_with_its_data():
    server = ScratchPostgres().start()
    try:
        connect = dict(host=server.host, port=server.port, user="postgres", dbname="postgres")
        with psycopg.connect(**connect, autocommit=True) as connection:
            connection.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        server.stop()
        assert not server.answers()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(**connect, connect_timeout=2)
        server.start()
        with psycopg.connect(**connect) as connection:
            assert connection.execute("SELECT n FROM kept").fetchall() == [(7,)]
    finally:
        server.close()


def test_scratch_rabbitmq_restarts_on_its_port_with_its_persistent_messages():
    server = ScratchRabbitMQ().start()
    try:
        with kombu.Connection(server.url) as connection:  # a durable queue, persistent messages
            connection.SimpleQueue("kept").put({"job": 1}, delivery_mode=2)
        server.stop()
        assert not server.answers()
        server.start()
        with kombu.Connection(server.url) as connection:
            assert connection.SimpleQueue("kept").get(timeout=10).payload == {"job": 1}
    finally:
        server.close()
    assert not reachable("127.0.0.1", server.port)


def test_smtp_stops_and_starts_again_on_its_port(smtp):
    smtp.stop()
    with pytest.raises(OSError):
        send(smtp, "later@example.com")
    smtp.start()
    send(smtp, "later@example.com")
    assert len(smtp.messages_to("later@example.com")) == 1


def send(smtp: StallingSMTP, to: str) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=30) as client:
        client.sendmail("videos@example.org", [to], f"To: {to}\r\nSubject: hi\r\n\r\nhello\r\n")


def test_smtp_keeps_what_it_accepts_after_holding_it(smtp):
    smtp.hold_next(1, to="held@example.com")
    send(smtp, "other@example.com")  # not the one to hold: answered at once
    assert not smtp.holding.is_set()
    started = time.monotonic()
    send(smtp, "held@example.com")
    assert time.monotonic() - started >= 1
    assert smtp.holding.is_set()
    assert len(smtp.messages_to("held@example.com")) == 1
    assert len(smtp.messages_to("other@example.com")) == 1
    assert smtp.abandoned == 0


def test_smtp_drops_a_held_message_whose_sender_hung_up(smtp):
    smtp.hold_next(30)
    sender = socket.create_connection((smtp.host, smtp.port), timeout=10)
    replies = sender.makefile("rb")

    def say(line: bytes) -> bytes:
        sender.sendall(line + b"\r\n")
        answer = replies.readline()
        while answer[3:4] == b"-":  # a multi-line answer (EHLO)
            answer = replies.readline()
        return answer

    assert replies.readline().startswith(b"220")
    assert say(b"EHLO test").startswith(b"250")
    assert say(b"MAIL FROM:<videos@example.org>").startswith(b"250")
    assert say(b"RCPT TO:<gone@example.com>").startswith(b"250")
    assert say(b"DATA").startswith(b"354")
    sender.sendall(b"To: gone@example.com\r\nSubject: hi\r\n\r\nhello\r\n.\r\n")
    smtp.wait_holding(10)
    replies.close()  # the socket closes only once its file is closed too
    sender.close()  # gone before the answer, as a killed worker is

    deadline = time.monotonic() + 10
    while smtp.abandoned == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp.abandoned == 1
    assert smtp.messages_to("gone@example.com") == []
    # The server goes on serving: the next sender's message is accepted.
    send(smtp, "next@example.com")
    assert len(smtp.messages_to("next@example.com")) == 1
