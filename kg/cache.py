"""A thread-safe LRU cache bounded by the total weight of its items (bytes, rows, ...).

Hand-written because the two caches of the project (serialized query results, weighed in bytes; entity incident
lists, weighed in rows) need weights, and functools.lru_cache only bounds the number of items.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class LRUCache(Generic[T]):
    def __init__(self, max_weight: int, weigh: Callable[[T], int], max_item: int | None = None) -> None:
        self.max_weight, self.weigh = max_weight, weigh
        self.max_item = max_weight if max_item is None else max_item
        self._items: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, item: T) -> None:
        weight = self.weigh(item)
        if weight > self.max_item:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (item, weight)
            self._weight += weight
            while self._weight > self.max_weight and self._items:
                _k, (_old, w) = self._items.popitem(last=False)
                self._weight -= w

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._items)
