from floe_core._redact import redact, secret_values


def test_redact_masks_url_passwords_only():
    text = "could not connect to postgresql+psycopg://floe:s3cret@db:5432/lake and https://h/x"
    out = redact(text)
    assert "s3cret" not in out
    assert "postgresql+psycopg://floe:***@db:5432/lake" in out
    assert "https://h/x" in out


def test_redact_masks_query_tokens_and_known_secrets():
    config = {"uri": "https://cat/v1?token=abcd1234&x=1", "credential": "id:s3cretvalue"}
    text = "failed https://cat/v1?token=abcd1234&x=1 with id:s3cretvalue"
    out = redact(text, secret_values(config))
    assert "abcd1234" not in out
    assert "s3cretvalue" not in out
    assert "x=1" in out
