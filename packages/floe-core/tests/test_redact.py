from floe_core._redact import redact, redact_config


def test_redact_masks_url_passwords_only():
    text = "could not connect to postgresql+psycopg://floe:s3cret@db:5432/lake and https://h/x"
    out = redact(text)
    assert "s3cret" not in out
    assert "postgresql+psycopg://floe:***@db:5432/lake" in out
    assert "https://h/x" in out


def test_redact_config_masks_secret_keys_and_nested_urls():
    safe = redact_config(
        {
            "uri": "postgresql://u:pw@h/db",
            "token": "abc",
            "s3.secret-access-key": "xyz",
            "nested": {"credential": "c", "warehouse": "s3://bucket"},
            "name": "lake",
        }
    )
    assert safe == {
        "uri": "postgresql://u:***@h/db",
        "token": "***",
        "s3.secret-access-key": "***",
        "nested": {"credential": "***", "warehouse": "s3://bucket"},
        "name": "lake",
    }
