"""Signing at a given time with botocore's own signer, whatever its version: newer botocore asks
botocore.auth.get_current_datetime() for now, older (Debian's 1.29, the one `make test` runs
with /usr/bin/python3) datetime.datetime.utcnow()."""
import datetime
from unittest import mock

import botocore.auth


def signing_time(when):
    """A context manager during which botocore's signer takes `when` (naive UTC) as now."""
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", return_value=when)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    return mock.patch.object(botocore.auth.datetime, "datetime", FrozenDatetime)
