"""The X-Twilio-Signature check agrees with Twilio, and the line refuses what Twilio did not sign.

Known answers from shared/twilio-signature-vectors.md (twilio-python's own unit tests and
Twilio's security documentation).
"""
import json
import logging

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from conftest import CONTENT, NUMBER, TOKEN, make_settings, replies, twilio_signature
from line import create_app
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
TEXT = {"Body": "side effects", "From": NUMBER, "To": "+15555550100", "MessageSid": "SM1"}
SIDE_EFFECTS = load_library(CONTENT).language("en").topics["side-effects"].text


def text_line(app, sign_with=TOKEN, signed_url="http://localhost/sms", base="http://localhost", headers=None):
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
