"""Image prefetch started by the webhook process after its commit (provider links expire).

Worker code (an HTTP download plus a database write) that runs in the web process on a small,
bounded thread pool, off the request path; the conversation's worker downloads anything that
failed here. Only used with a Redis broker: the embedded worker runs in-process and starts at once.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from workers.conversations import prefetch_attachments

log = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="prefetch")


def submit(update_id: int) -> None:
    """Fetch the update's images now, on the pool, rather than when a worker gets to the chat."""
    _pool.submit(_prefetch_logged, update_id)


def _prefetch_logged(update_id: int) -> None:
    try:
        prefetch_attachments(update_id)
    except Exception as exc:  # noqa: BLE001  (the worker downloads it instead)
        log.warning("image prefetch failed: %s", type(exc).__name__)
