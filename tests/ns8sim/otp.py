"""TOTP (RFC 6238: SHA-1, 30 s steps, 6 digits), as NS8's 2FA uses."""

import base64
import hashlib
import hmac
import struct
import time


def totp(secret_b32, at=None, step=30, digits=6):
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return "%0*d" % (digits, code)


def verify(secret_b32, code, window=1, step=30):
    now = time.time()
    return any(hmac.compare_digest(totp(secret_b32, now + i * step, step), str(code))
               for i in range(-window, window + 1))
