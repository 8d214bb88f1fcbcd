import pytest

from connector.matching.freemail import FreeMailDomains, shipped_domains


def test_shipped_lists_are_loaded_with_their_licences():
    from importlib import resources

    folder = resources.files("connector").joinpath("data", "free_email_domains")
    assert "MIT" in folder.joinpath("LICENSE-free-only").read_text(encoding="utf-8")
    assert "MIT" in folder.joinpath("LICENSE-free-and-disposable").read_text(encoding="utf-8")
    assert len(shipped_domains()) > 13_000


@pytest.mark.parametrize(
    "host", ["gmail.com", "GMAIL.COM", "yahoo.co.uk", "mail.yahoo.co.uk", "mailinator.com", "gmx.de", "hotmail.com"]
)
def test_free_and_disposable_hosts(host):
    assert FreeMailDomains().is_free(host)


@pytest.mark.parametrize("host", ["acme.com", "google.com", "co.uk", "com", "gmail.acme.com"])
def test_company_hosts_are_not_free(host):
    assert not FreeMailDomains().is_free(host)


def test_config_adds_and_removes():
    free = FreeMailDomains(add=["Partner-Mail.com."], remove=["gmail.com"])
    assert free.is_free("partner-mail.com")
    assert free.is_free("eu.partner-mail.com")
    assert not free.is_free("gmail.com")
    assert "yahoo.com" in free
