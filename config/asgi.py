"""The web process's application: Django under ASGI, served by gunicorn's uvicorn workers.

An async server reads request bodies on its event loop: a client that sends its upload slowly
costs a socket and a little memory, never one of a few worker threads. Django's ASGI handler
reads the whole body before a thread runs the view, so this module puts back what that order
would lose, and keeps memory bounded:

- a body larger than the upload limit is refused from its Content-Length before it is read,
  and a body without one (chunked) is stopped as soon as it passes the limit;
- a body that stops arriving is dropped after BODY_IDLE_SECONDS;
- bodies are spooled to FILE_UPLOAD_TEMP_DIR past a small size, not kept in memory or in /tmp
  (often a tmpfs, so memory again); a chunked body gets its length once it is complete;
- a form's file is written there once, as it arrives, to the temporary file the view gets and
  the storage moves (config/uploads.py), not spooled and then copied by Django's parser;
- under /api/ the refusals (413, 408) are JSON, in the API's error shape (api/errors.py);
- streamed responses (files, static files) are sent piece by piece: Django 5.2 would read a
  synchronous iterator whole into memory before sending the first byte;
- a request's database connections close when it ends (see make_application).
"""

import asyncio
import json
import os
import tempfile
from collections.abc import Callable
from io import BytesIO

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.utils import translation

from config.uploads import REQUEST_ATTRIBUTE, SplitBody, form_boundary

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# What nginx allows between two reads of a request body (client_body_timeout).
BODY_IDLE_SECONDS = 60
# Past this, a request body being received goes to a file on disk.
BODY_MEMORY_BYTES = 64 * 1024


class Handler(ASGIHandler):
    """Django's ASGI handler: bodies spooled to the upload folder, middleware and view run in
    one thread, responses streamed."""

    def __init__(self):
        # Not ASGIHandler's, which builds the middleware chain for async. Every middleware and
        # view here is synchronous, so the chain is built as under WSGI and run whole in the
        # request's thread: the async chain would switch between that thread and the event
        # loop around each middleware, a dozen times a request (15-20 % fewer pages a second
        # here, where this way serves as many as the threaded server did).
        self.load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def handle(self, scope, receive, send):
        await super().handle(scope, Receive(receive, scope), send)

    async def read_body(self, receive):
        body = Body(max_size=BODY_MEMORY_BYTES, mode="w+b", dir=settings.FILE_UPLOAD_TEMP_DIR)
        boundary = getattr(receive, "form_boundary", None)  # see handle()
        split = SplitBody(body, boundary, settings.FILE_UPLOAD_TEMP_DIR) if boundary else None
        sink = split or body
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()
                part = message.get("body", b"")
                body.received += len(part)
                sink.write(part)
                if not message.get("more_body", False):
                    break
            if split:
                split.finish()
        except BaseException:  # a disconnect, a cancelled task: no file stays behind
            if split and split.upload:
                split.upload.close()
            body.close()
            raise
        body.upload = split.upload if split else None
        body.seek(0)
        return body

    def create_request(self, scope, body_file):
        request, error_response = super().create_request(scope, body_file)
        if request is not None:
            if body_file.upload:
                setattr(request, REQUEST_ATTRIBUTE, body_file.upload)
            if not request.META.get("CONTENT_LENGTH") and body_file.received:
                # A chunked body (Transfer-Encoding: chunked) declares no length. It is
                # complete by now, so its length is known: without it Django and DRF read the
                # body as empty, and an upload would lose its fields and file.
                request.META["CONTENT_LENGTH"] = str(body_file.received)
        return request, error_response

    async def run_get_response(self, request):
        response = await super().run_get_response(request)
        if response.streaming and not response.is_async:
            response.streaming_content = parts_from_thread(response.streaming_content)
        return response


class Receive:
    """The server's receive(), with the boundary of the request's body if it is a form
    (multipart/form-data): Django gives read_body() nothing else of the request."""

    __slots__ = ("receive", "form_boundary")

    def __init__(self, receive, scope):
        self.receive = receive
        # As Django's request reads it: every Content-Type header, joined.
        content_type = ",".join(
            value.decode("latin1") for name, value in scope["headers"] if name == b"content-type"
        )
        self.form_boundary = form_boundary(content_type)

    def __call__(self):
        return self.receive()


class Body(tempfile.SpooledTemporaryFile):
    """A request body as Django reads it: in memory up to BODY_MEMORY_BYTES, then in
    FILE_UPLOAD_TEMP_DIR. A form's first file is not in it but in `upload` (config/uploads.py),
    which goes when the body is closed (Django closes it when the request ends)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = 0  # bytes of the body, with the file's
        self.upload = None

    def close(self):
        try:
            super().close()
        finally:
            if self.upload:
                self.upload.close()


async def parts_from_thread(iterator):
    """A synchronous iterator's parts, each read in the request's thread when it is needed."""
    read_next = sync_to_async(next, thread_sensitive=True)
    while (part := await read_next(iterator, None)) is not None:
        yield part


class UploadGuard:
    """ASGI middleware: 413 for a body over the limit, 408 for a body that stops arriving.

    `too_large(length)` decides from a length in bytes given as text (a Content-Length header).
    """

    def __init__(
        self,
        app,
        *,
        too_large: Callable[[str], bool],
        message: Callable[[], str],
        idle_seconds: float = BODY_IDLE_SECONDS,
    ):
        self.app = app
        self.too_large = too_large
        self.message = message
        self.idle_seconds = idle_seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"").decode("latin1")
        if self.too_large(declared):
            return await self.refuse(scope, send, 413)  # the body is never read

        refusal = 0  # the status to answer instead of the app, once the body went wrong
        received = 0
        body_complete = False
        response_started = False

        async def guarded_receive():
            nonlocal refusal, received, body_complete
            if body_complete:  # the app now waits for a disconnect: no deadline
                return await receive()
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await receive()
            except TimeoutError:
                refusal = 408
                return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_complete = not message.get("more_body", False)
                if self.too_large(str(received)):
                    refusal = 413
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal response_started
            response_started = True
            await send(message)

        await self.app(scope, guarded_receive, tracked_send)
        if refusal and not response_started:
            await self.refuse(scope, send, refusal)

    async def refuse(self, scope, send, status: int) -> None:
        """A short answer in the client's language; the connection closes: the rest of the
        body is not worth reading."""
        request = ASGIRequest(scope, BytesIO())
        with translation.override(translation.get_language_from_request(request)):
            text = self.message() if status == 413 else translation.gettext("Request timed out.")
        if scope["path"].startswith("/api/"):
            answer = (
                {"detail": text, "errors": {"file": [text]}} if status == 413 else {"detail": text}
            )
            body = json.dumps(answer, ensure_ascii=False).encode()
            content_type = b"application/json"
        else:
            body = text.encode()
            content_type = b"text/plain; charset=utf-8"
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def make_application():
    django.setup(set_prefix=False)
    from videos import services  # needs the apps loaded

    # Each request runs in a context of its own, with connections of its own: a persistent
    # one would never be used again, yet stay open until garbage collected (a server's
    # connection slots fill up). Close each at the end of its request.
    for database in settings.DATABASES.values():
        database["CONN_MAX_AGE"] = 0

    return UploadGuard(
        Handler(), too_large=services.upload_too_large, message=services.too_large_message
    )


application = make_application()
