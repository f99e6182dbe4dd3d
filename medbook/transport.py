"""kombu's filesystem transport, made safe for several processes: the embedded default's broker.

kombu's own filesystem transport creates each message file under its final name and only then
writes into it; a worker listing the queue folder at that moment takes an empty or half-written
file, fails on it with ``JSONDecodeError`` and dies (and the message is gone). Its exchange tables
(which queue a routing key goes to) are created and rewritten in place the same way, so a
publisher can read one half-written too. In ``dev.py run`` the web server and beat publish while
the worker reads, so sooner or later the two meet.

This transport keeps kombu's folder layout and file names but writes every file under a hidden
temporary name in the same folder and renames it into place (``os.replace``, atomic on POSIX): a
reader sees a whole file or none. A consumer takes a message by renaming it to a hidden name (one
consumer wins), reads it, deletes it. A file that still cannot be decoded (left by an older
version, a full disk …) is set aside as ``.<name>.bad`` with an error in the log instead of
killing the worker. Exchange tables are changed under a lock file that is never replaced, and
written by rename too.

Settings select it with ``CELERY_BROKER_TRANSPORT = "medbook.transport:Transport"`` (the URL stays
``filesystem://``). Like kombu's, it is for one machine: production uses RabbitMQ or Redis.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file."""
    path = os.fspath(path)
    folder, name = os.path.split(path)
    # A leading dot: kombu's readers only look at "<stamp>_<uuid>.<queue>.msg" names.
    temp = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "xb") as f:
            f.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class Channel(filesystem.Channel):
    """Filesystem channel whose every write is a rename of a complete file."""

    # -- messages ------------------------------------------------------------------------------
    def _put(self, queue, payload, **kwargs):
        # Zero-padded milliseconds so that the names sort in publication order.
        name = f"{round(monotonic() * 1000):016d}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            write_atomically(path, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        folder = self.data_folder_in
        for filename in sorted(os.listdir(folder)):
            if filename.partition(".")[2] != wanted:
                continue
            source = os.path.join(folder, filename)
            taken = os.path.join(folder, f".{filename}.taken-{os.getpid()}")
            try:
                os.rename(source, taken)  # atomic: of several consumers exactly one gets it
            except OSError:  # taken by another consumer meanwhile (or not ours to take)
                continue
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
            try:
                message = loads(bytes_to_str(payload))
            except ValueError:
                bad = os.path.join(folder, f".{filename}.bad")
                os.replace(taken, bad)
                logger.error("Undecodable message file set aside as %s", bad)
                continue
            if self.store_processed:
                shutil.move(taken, os.path.join(self.processed_folder, filename))
            else:
                os.unlink(taken)
            return message
        raise Empty()

    # -- exchange tables -----------------------------------------------------------------------
    def _read_table(self, file: Path) -> list[filesystem.exchange_queue_t]:
        try:
            text = file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        try:
            return [filesystem.exchange_queue_t(*row) for row in loads(bytes_to_str(text))]
        except (ValueError, TypeError):
            # Only a file from kombu's own transport can be torn; the next bind rewrites it.
            logger.error("Unreadable exchange table %s, taken as empty", file)
            return []

    def _change_table(self, exchange, change) -> None:
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.control_folder / ".lock", "ab") as lock_file:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)  # released when closed
                queues = self._read_table(file)
                changed = change(list(queues))
                if changed != queues:
                    write_atomically(file, str_to_bytes(dumps(changed)))
        except OSError as exc:
            raise ChannelError(f"Cannot update {file}") from exc

    def get_table(self, exchange):
        return self._read_table(self._exchange_file(exchange))

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")

        def add(queues: list) -> list:
            return queues if row in queues else [row, *queues]

        self._change_table(exchange, add)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # kombu's virtual channel forgets the queue and purges it; then the binding goes.
        virtual_delete = super(filesystem.Channel, self)._delete
        virtual_delete(queue, exchange, routing_key, pattern, *args, **kwargs)
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda queues: [q for q in queues if q != row])


class Transport(filesystem.Transport):
    """kombu's filesystem transport with atomic writes (see the module's docstring)."""

    Channel = Channel
