"""Our signatures verify with the official standardwebhooks library, rotated secrets included."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from pipeline.webhooks import InvalidSecret, generate_secret, secret_key, sign, webhook_headers

BODY = b'{"type":"job.delivered","data":{"id":"j1","caption":"caf\xc3\xa9"}}'


def test_generated_secrets_are_whsec_base64_of_24_to_32_random_bytes() -> None:
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert len(secret_key(generate_secret(24))) == 24
    with pytest.raises(ValueError, match="24 to 32"):
        generate_secret(16)


def test_malformed_secrets_are_refused() -> None:
    for bad in ("whsec_", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidSecret):
            secret_key(bad)


def test_the_official_library_verifies_our_headers() -> None:
    secret = generate_secret()
    headers = webhook_headers(
        secrets=[secret], msg_id="msg_1", timestamp=int(time.time()), body=BODY
    )
    assert Webhook(secret).verify(BODY, headers)["data"]["caption"] == "café"


def test_our_signature_equals_the_libraries() -> None:
    secret = generate_secret()
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ours = sign(secret, "msg_x", int(moment.timestamp()), BODY)
    assert ours == Webhook(secret).sign("msg_x", moment, BODY.decode())
    assert ours.startswith("v1,")


def test_rotated_headers_carry_both_signatures_and_each_secret_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    headers = webhook_headers(
        secrets=[new, old], msg_id="msg_2", timestamp=int(time.time()), body=BODY
    )
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(BODY, headers)
    Webhook(old).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, headers)


def test_an_altered_body_fails_the_official_check() -> None:
    secret = generate_secret()
    headers = webhook_headers(
        secrets=[secret], msg_id="msg_3", timestamp=int(time.time()), body=BODY
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"j1", b"j2"), headers)
