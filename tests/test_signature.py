"""The X-Twilio-Signature check agrees with Twilio, and the line refuses what Twilio did not sign.

Known answers from shared/twilio-signature-vectors.md (twilio-python's own unit tests and
Twilio's security documentation).
"""
import hashlib
import json
import logging

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from conftest import CONTENT, NUMBER, TOKEN, answered_before, make_settings, replies, twilio_signature
from line import create_app
from line.config import Settings
from line.content import load_library
from line.twilio_auth import SignatureCheck

VECTOR_TOKEN = "12345"
PATH = "/myapp.php?foo=1&bar=2"
URL = "https://mycompany.com" + PATH
COMMON = MultiDict([
    ("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"),
    ("To", "+18005551212"), ("Caller", "+14158675309"),
])
REPEATED = MultiDict([
    ("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234"),
])
DOCS = MultiDict([
    ("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
    ("From", "+12349013030"), ("To", "+18005551212"),
])
JSON_BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
JSON_PATH = PATH + "&bodySHA256=" + BODY_HASH
JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="

# (case, URL Twilio signed, where the request arrives, parameters, signature)
VECTORS = [
    ("plain", URL, "https://mycompany.com", COMMON, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https port is dropped", "https://mycompany.com:1234" + PATH, "https://mycompany.com:1234", COMMON,
     "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("http with port 1234", "http://mycompany.com:1234" + PATH, "http://mycompany.com:1234", COMMON,
     "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ("Twilio signed with :443", "https://mycompany.com:443" + PATH, "https://mycompany.com", COMMON,
     "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("Twilio signed with :80", "http://mycompany.com:80" + PATH, "http://mycompany.com", COMMON,
     "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ("repeated parameters", URL, "https://mycompany.com", REPEATED, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
    ("Twilio security docs", URL, "https://mycompany.com", DOCS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="),
]
IDS = [v[0] for v in VECTORS]


# -- conftest's own signer reproduces Twilio's answers ---------------------------------------
@pytest.mark.parametrize("case, signed_url, base, params, signature", VECTORS, ids=IDS)
def test_conftest_signer_reproduces_the_vectors(case, signed_url, base, params, signature):
    if case == "https port is dropped":
        # The signature is over the URL without the port, so the check must drop it.
        assert twilio_signature(VECTOR_TOKEN, signed_url, params) != signature
        signed_url = URL
    assert twilio_signature(VECTOR_TOKEN, signed_url, params) == signature


def test_conftest_signer_reproduces_the_json_vector():
    assert twilio_signature(VECTOR_TOKEN, "https://mycompany.com" + JSON_PATH, {}) == JSON_SIGNATURE


# -- the line's SignatureCheck accepts them --------------------------------------------------
def vector_app(token=VECTOR_TOKEN):
    app = Flask(__name__)
    app.before_request(SignatureCheck(token, False, None))

    @app.post("/myapp.php")
    def myapp():
        return "signed and accepted"

    return app.test_client()


def post(client, base, data, signature, path=PATH, **kwargs):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(path, data=data, headers=headers, base_url=base, **kwargs)


@pytest.mark.parametrize("case, signed_url, base, params, signature", VECTORS, ids=IDS)
def test_the_check_accepts_what_twilio_signed(case, signed_url, base, params, signature):
    response = post(vector_app(), base, params, signature)
    assert response.status_code == 200, case
    assert response.data == b"signed and accepted"


def test_the_check_accepts_a_signed_json_body():
    client = vector_app()
    response = post(client, "https://mycompany.com", JSON_BODY, JSON_SIGNATURE, path=JSON_PATH,
                    content_type="application/json")
    assert response.status_code == 200
    assert response.data == b"signed and accepted"


def test_the_check_refuses_a_changed_json_body():
    client = vector_app()
    changed = json.dumps({"property": "other", "boolean": True})
    response = post(client, "https://mycompany.com", changed, JSON_SIGNATURE, path=JSON_PATH,
                    content_type="application/json")
    assert response.status_code == 403


def test_the_check_refuses_a_tampered_parameter():
    tampered = MultiDict(COMMON)
    tampered["Digits"] = "9999"
    assert post(vector_app(), "https://mycompany.com", tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=").status_code == 403


def test_the_check_refuses_an_added_parameter():
    added = MultiDict(COMMON)
    added.add("Body", "hello")
    assert post(vector_app(), "https://mycompany.com", added, "RSOYDt4T1cUTdK1PDd93/VVr8B8=").status_code == 403


def test_the_check_refuses_another_url():
    response = post(vector_app(), "https://mycompany.com", COMMON, "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                    path="/myapp.php?foo=1&bar=3")
    assert response.status_code == 403


def test_the_check_refuses_the_wrong_token():
    response = post(vector_app("54321"), "https://mycompany.com", COMMON, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert response.status_code == 403


@pytest.mark.parametrize("signature", [None, ""], ids=["missing", "empty"])
def test_the_check_refuses_no_signature(signature):
    assert post(vector_app(), "https://mycompany.com", COMMON, signature).status_code == 403


# -- the real line ---------------------------------------------------------------------------
# No MessageSid: these tests post the same text several times, and the line answers a MessageSid once.
TEXT = {"Body": "side effects", "From": NUMBER, "To": "+15555550100"}
SIDE_EFFECTS = load_library(CONTENT).language("en").topics["side-effects"].text


def text_line(app, sign_with=TOKEN, signed_url="http://localhost/sms", base="http://localhost", headers=None):
    answered_before(app, NUMBER)  # these tests are about signatures, not a number's first reply
    headers = dict(headers or {})
    if sign_with is not None:
        headers["X-Twilio-Signature"] = twilio_signature(sign_with, signed_url, TEXT)
    return app.test_client().post("/sms", data=TEXT, headers=headers, base_url=base)


def answered(response) -> bool:
    if response.status_code == 403:
        return False
    assert response.status_code == 200, response.data
    assert replies(response) == [SIDE_EFFECTS]
    return True


def test_the_line_answers_only_signed_texts(tmp_path):
    app = create_app(make_settings(tmp_path))
    assert answered(text_line(app))
    unsigned = text_line(app, sign_with=None)
    assert unsigned.status_code == 403
    assert b"Side effects" not in unsigned.data
    assert text_line(app, sign_with="not-the-token").status_code == 403
    forged = app.test_client().post("/sms", data=TEXT, base_url="http://localhost",
                                    headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="})
    assert forged.status_code == 403


@pytest.mark.parametrize("token", [TOKEN, "", "anything"])
def test_without_an_auth_token_every_request_is_refused(tmp_path, token):
    app = create_app(make_settings(tmp_path, twilio_auth_token=None))
    assert text_line(app, sign_with=token).status_code == 403
    assert text_line(app, sign_with=None).status_code == 403


def test_allow_unsigned_accepts_unsigned_texts_and_says_so_loudly(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    app = create_app(make_settings(tmp_path, allow_unsigned=True))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "LINE_ALLOW_UNSIGNED" in r.getMessage()]
    assert warnings, caplog.text
    assert "NOT checked" in warnings[0].getMessage()
    assert answered(text_line(app, sign_with=None))


def test_without_allow_unsigned_there_is_no_such_warning(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    create_app(make_settings(tmp_path))
    assert "LINE_ALLOW_UNSIGNED" not in caplog.text


# -- behind a proxy ----------------------------------------------------------------------------
def test_behind_a_proxy_the_public_url_is_what_counts(tmp_path):
    app = create_app(make_settings(tmp_path, public_base_url="https://line.example.org"))
    inside = "http://10.0.0.5:8000"
    assert answered(text_line(app, signed_url="https://line.example.org/sms", base=inside))
    assert text_line(app, signed_url=inside + "/sms", base=inside).status_code == 403


def test_behind_a_proxy_the_public_url_keeps_the_query(tmp_path):
    app = create_app(make_settings(tmp_path, public_base_url="https://line.example.org"))
    answered_before(app, NUMBER)
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "https://line.example.org/sms?lang=en", TEXT)}
    response = app.test_client().post("/sms?lang=en", data=TEXT, headers=headers, base_url="http://10.0.0.5:8000")
    assert answered(response)
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "https://line.example.org/sms", TEXT)}
    response = app.test_client().post("/sms?lang=en", data=TEXT, headers=headers, base_url="http://10.0.0.5:8000")
    assert response.status_code == 403


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "line.example.org"}


def test_with_proxy_count_the_forwarded_url_is_what_counts(tmp_path):
    app = create_app(make_settings(tmp_path, proxy_count=1))
    assert answered(text_line(app, signed_url="https://line.example.org/sms", headers=FORWARDED))
    assert text_line(app, signed_url="http://localhost/sms", headers=FORWARDED).status_code == 403


def test_without_proxy_count_forwarded_headers_are_not_trusted(tmp_path):
    app = create_app(make_settings(tmp_path))
    assert text_line(app, signed_url="https://line.example.org/sms", headers=FORWARDED).status_code == 403
    assert answered(text_line(app, signed_url="http://localhost/sms", headers=FORWARDED))


# -- a JSON body's hash --------------------------------------------------------------------------
def test_an_empty_body_hash_with_any_signature_is_refused(tmp_path, caplog):
    """The attack: `?bodySHA256=` with any signature got the 200 fallback and a traceback."""
    client = create_app(make_settings(tmp_path)).test_client()
    caplog.set_level(logging.INFO)
    for query in ["?bodySHA256=", "?bodySHA256", "?bodySHA256=&bodySHA256=", "?lang=en&bodySHA256="]:
        for signature in ["anything", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "ñ"]:
            response = client.post("/sms" + query, data=TEXT, base_url="http://localhost",
                                   headers={"X-Twilio-Signature": signature})
            assert response.status_code == 403, (query, signature)
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


def test_an_empty_body_hash_is_refused_even_when_signed(tmp_path):
    """Signed over the URL with the empty hash and no parameters: still nothing to check the body by."""
    app = create_app(make_settings(tmp_path))
    url = "http://localhost/sms?bodySHA256="
    response = app.test_client().post("/sms?bodySHA256=", data=JSON_BODY, content_type="application/json",
                                      base_url="http://localhost",
                                      headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, {})})
    assert response.status_code == 403


# -- SharedKey signatures (HMAC-SHA256) ----------------------------------------------------------
SHARED = "shared-key-secret"
OLD_SHARED = "the-key-before-it"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"


def shared_headers(key, url="http://localhost/sms", params=TEXT, settings="key=KS1234,algorithm=HMAC_SHA256"):
    return {"X-Twilio-Signature": twilio_signature(key, url, params, digest=hashlib.sha256),
            SETTINGS_HEADER: settings}


def shared_app(tmp_path, keys=(SHARED,), **overrides):
    app = create_app(make_settings(tmp_path, webhook_shared_keys=keys, **overrides))
    answered_before(app, NUMBER)
    return app


def test_a_shared_key_signature_is_accepted_next_to_the_auth_token(tmp_path):
    app = shared_app(tmp_path)
    client = app.test_client()
    assert answered(client.post("/sms", data=TEXT, base_url="http://localhost", headers=shared_headers(SHARED)))
    assert answered(text_line(app))  # the account's Auth Token still works


def test_a_shared_key_signature_agrees_with_twilio_python(tmp_path):
    """twilio-python's own HMAC_SHA256 signature is what the line accepts."""
    from twilio.request_validator import HMAC_SHA256, RequestValidator

    app = shared_app(tmp_path)
    signature = RequestValidator(SHARED).compute_signature("http://localhost/sms", TEXT, HMAC_SHA256)
    response = app.test_client().post("/sms", data=TEXT, base_url="http://localhost", headers={
        "X-Twilio-Signature": signature, SETTINGS_HEADER: "key=KS1,algorithm=HMAC_SHA256"})
    assert answered(response)


def test_during_a_rotation_both_shared_keys_are_accepted(tmp_path):
    app = shared_app(tmp_path, keys=(SHARED, OLD_SHARED))
    client = app.test_client()
    for key in (SHARED, OLD_SHARED):
        assert answered(client.post("/sms", data=TEXT, base_url="http://localhost", headers=shared_headers(key)))
    refused = client.post("/sms", data=TEXT, base_url="http://localhost", headers=shared_headers("a third key"))
    assert refused.status_code == 403


def test_settings_read_the_shared_keys(tmp_path):
    settings = Settings.from_env({"LINE_DATA_DIR": str(tmp_path), "TWILIO_WEBHOOK_SHARED_KEY": SHARED,
                                  "TWILIO_WEBHOOK_SHARED_KEY_PREVIOUS": OLD_SHARED})
    assert settings.webhook_shared_keys == (SHARED, OLD_SHARED)
    assert SHARED not in repr(settings) and OLD_SHARED not in repr(settings)


@pytest.mark.parametrize("case, headers", [
    ("SHA-256 with the Auth Token", {SETTINGS_HEADER: "key=KS1,algorithm=HMAC_SHA256",
                                     "X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost/sms", TEXT,
                                                                            digest=hashlib.sha256)}),
    ("the shared key without its header", {"X-Twilio-Signature": twilio_signature(
        SHARED, "http://localhost/sms", TEXT, digest=hashlib.sha256)}),
    ("SHA-1 with the shared key, said to be SHA-256", {
        SETTINGS_HEADER: "key=KS1,algorithm=HMAC_SHA256",
        "X-Twilio-Signature": twilio_signature(SHARED, "http://localhost/sms", TEXT)}),
    ("an algorithm nobody supports", shared_headers(SHARED, settings="key=KS1,algorithm=HMAC_MD5")),
    ("a changed parameter", shared_headers(SHARED, params=dict(TEXT, Body="menu"))),
])
def test_what_the_shared_key_did_not_sign_is_refused(tmp_path, case, headers):
    response = shared_app(tmp_path).test_client().post("/sms", data=TEXT, base_url="http://localhost",
                                                       headers=headers)
    assert response.status_code == 403, case


def test_a_shared_key_request_without_a_shared_key_set_is_refused_unread(tmp_path, caplog):
    app = create_app(make_settings(tmp_path))
    caplog.set_level(logging.WARNING)
    response = app.test_client().post("/sms", data=TEXT, base_url="http://localhost",
                                      headers=shared_headers(SHARED))
    assert response.status_code == 403
    assert "TWILIO_WEBHOOK_SHARED_KEY is not set" in caplog.text


def test_a_shared_key_alone_is_enough(tmp_path):
    """Without the Auth Token on the webhook host, SharedKey requests are still answered."""
    app = shared_app(tmp_path, twilio_auth_token=None)
    client = app.test_client()
    assert answered(client.post("/sms", data=TEXT, base_url="http://localhost", headers=shared_headers(SHARED)))
    assert text_line(app).status_code == 403


# -- the body is read only for a request that could be signed ------------------------------------
class Unreadable:
    """A wsgi.input that fails the test if the line reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = readinto = read


@pytest.mark.parametrize("headers, token", [
    ({}, TOKEN),
    ({"X-Twilio-Signature": ""}, TOKEN),
    ({"X-Twilio-Signature": "anything"}, None),
    ({"X-Twilio-Signature": "anything", SETTINGS_HEADER: "key=KS1,algorithm=HMAC_SHA256"}, TOKEN),
], ids=["no signature", "empty signature", "no token", "SharedKey without a key"])
def test_a_request_no_key_could_have_signed_is_refused_unread(tmp_path, headers, token):
    app = create_app(make_settings(tmp_path, twilio_auth_token=token))
    environ = {"wsgi.input": Unreadable()}
    response = app.test_client().post("/sms", data=TEXT, base_url="http://localhost", headers=headers,
                                      environ_overrides=environ)
    assert response.status_code == 403


def test_a_body_over_the_bound_is_refused_unread(tmp_path):
    app = create_app(make_settings(tmp_path))
    big = dict(TEXT, Body="a" * (64 * 1024))
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, "http://localhost/sms", big)}
    response = app.test_client().post("/sms", data=big, base_url="http://localhost", headers=headers)
    assert response.status_code == 413
    smaller = create_app(make_settings(tmp_path / "2", max_body_bytes=128 * 1024))
    assert smaller.test_client().post("/sms", data=big, base_url="http://localhost",
                                      headers=headers).status_code == 200
