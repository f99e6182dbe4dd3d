"""The Chinese word segmenter (jieba), set up once per process.

jieba reads its 5 MB dictionary and builds a prefix table on first use (about a second); it
caches that table as a file. The cache goes under ``VAR_DIR/jieba`` (writable in every mode,
unlike the package's own folder or a shared /tmp on a locked-down host), and the dictionary is
loaded lazily on the first description, not when Django starts: workers that never triage pay
nothing. The symptom terms of the knowledge table are added as words so that "胸闷" and "心慌"
come out whole instead of being split or glued to their neighbours.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

_lock = threading.Lock()
_tokenizer = None
# High enough that a table term wins over the general dictionary's splits of it.
TERM_FREQUENCY = 200_000


def cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "jieba"


def _build(words: Iterable[str]):
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        tokenizer.tmp_dir = str(cache_dir())
    except OSError:  # a read-only VAR_DIR: jieba falls back to the system's temporary folder
        pass
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(word, freq=TERM_FREQUENCY)
    return tokenizer


def tokenizer():
    """The process's tokenizer with the table's words, built on first use (thread-safe)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                from .knowledge import knowledge

                _tokenizer = _build(knowledge().vocabulary)
    return _tokenizer


def cut(text: str) -> list[str]:
    """``text`` as words, by dictionary alone (no HMM guessing of new words, which could glue a
    symptom to the characters around it)."""
    return [word for word in tokenizer().lcut(text, HMM=False) if word]
