"""Alertmanager's alert fingerprint, computed from the labels (for senders that omit it).

prometheus/common `model/signature.go` `labelSetToFingerprint`, which Alertmanager's
webhook `fingerprint` is (`%016x` of it): a 64-bit FNV-1a hash over the label names,
sorted bytewise, each name and each value followed by the separator byte 0xFF.
Alertmanager before 0.19 sent no `fingerprint`; this gives the identity a newer one would.
"""

from __future__ import annotations

from collections.abc import Mapping

_OFFSET64 = 14695981039346656037
_PRIME64 = 1099511628211
_MASK64 = 0xFFFFFFFFFFFFFFFF
_SEPARATOR = b"\xff"


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """The 16-hex-digit fingerprint Alertmanager gives an alert with these labels.

    Names sort by their UTF-8 bytes (Go compares strings bytewise); an empty label set
    gives the FNV offset basis.
    """
    data = bytearray()
    for name in sorted(labels, key=lambda key: key.encode()):
        data += name.encode()
        data += _SEPARATOR
        data += labels[name].encode()
        data += _SEPARATOR
    digest = _OFFSET64
    for byte in data:
        digest = ((digest ^ byte) * _PRIME64) & _MASK64
    return f"{digest:016x}"
