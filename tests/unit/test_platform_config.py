"""The `[platform]` config section: defaults, the token from the environment, bad values refused."""

from __future__ import annotations

import pytest

from remote.platform_cache import CachingPlatform
from remote.platform_http import HttpPlatform
from terminal.config import ConfigError, load_config
from terminal.platform_setup import open_platform


def write(tmp_path, text: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_is_the_local_adapter():
    pf = load_config().platform
    assert (pf.adapter, pf.base_url, pf.retries) == ("local", "", 2)


def test_the_token_comes_from_the_environment_first(tmp_path, monkeypatch):
    text = '[platform]\nadapter = "http"\nbase_url = "https://p.example/api"\ntoken = "in-file"\n'
    monkeypatch.delenv("KIOSK_PLATFORM_TOKEN", raising=False)
    assert load_config(write(tmp_path, text)).platform.resolved_token() == "in-file"
    monkeypatch.setenv("KIOSK_PLATFORM_TOKEN", "from-env")
    assert load_config(write(tmp_path, text)).platform.resolved_token() == "from-env"


def test_an_http_platform_is_built_from_the_section(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_PLATFORM_TOKEN", "from-env")
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here", encoding="utf-8")
    monkeypatch.setenv("KIOSK_HASH_KEY", "platform-config-test-hash-key-0123456789")
    cfg = load_config(write(tmp_path, f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n'
                            '[platform]\nadapter = "http"\n'
                            'base_url = "https://p.example/api/"\n'
                            f'ca_file = "{ca}"\nretries = 4\nbackoff_s = 0.25\n'))
    platform = open_platform(cfg)
    try:
        assert isinstance(platform, CachingPlatform)  # guides and progress kept for offline use
        http = platform.inner
        assert isinstance(http, HttpPlatform)
        assert http._verify == str(ca)
        assert http._retries == 4
        assert http._backoff == 0.25
        assert http._base == "https://p.example/api"
    finally:
        platform.close()
    assert http._closed.is_set()  # closing the cache closes the adapter


@pytest.mark.parametrize(("text", "message"), [
    ('adapter = "ftp"\n', "platform.adapter: must be local or http"),
    ('adapter = "http"\n', "platform.base_url: must be an http(s) URL with a host"),
    ('adapter = "http"\nbase_url = "platform.example"\n', "platform.base_url: must be an http"),
    ('adapter = "http"\nbase_url = "http://10.1.2.3/api"\n',
     "platform.base_url: plain http sends the token in the clear"),
    ('adapter = "http"\nbase_url = "https://u:p@p.example"\n',
     "platform.base_url: no credentials in the URL"),
    ('adapter = "http"\nbase_url = "https://p.example"\nca_file = "/nonexistent/ca.pem"\n',
     "platform.ca_file: no such file"),
    ('retries = 11\n', "platform.retries: must be 0..10"),
    ('connect_timeout_s = 0\n', "platform.connect_timeout_s: must be positive"),
    ('backoff_s = -1\n', "platform.backoff_s: must be 0 or more"),
    ('timeout = 3\n', "platform.timeout: unknown key"),
])
def test_bad_platform_values_are_refused_with_the_key(tmp_path, monkeypatch, text, message):
    monkeypatch.setenv("KIOSK_PLATFORM_TOKEN", "from-env")
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "[platform]\n" + text))
    assert message in str(err.value)


def test_http_without_a_token_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_PLATFORM_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"platform\.token: not set; put the token in the "
                                          r"environment variable KIOSK_PLATFORM_TOKEN"):
        load_config(write(tmp_path, '[platform]\nadapter = "http"\n'
                          'base_url = "https://p.example"\n'))


def test_plain_http_is_allowed_on_loopback_or_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_PLATFORM_TOKEN", "from-env")
    load_config(write(tmp_path, '[platform]\nadapter = "http"\nbase_url = "http://127.0.0.1:8080"\n'))
    load_config(write(tmp_path, '[platform]\nadapter = "http"\nbase_url = "http://10.1.2.3"\n'
                      'allow_http = true\n'))
